import type { DataSource, EntityManager } from 'typeorm';
import { AuthErrors } from '../../auth.errors';
import type { CodeMail } from '../../codes/code-mail';
import type { CodeThrottle } from '../../codes/code-throttle';
import { RequestSignInCodeCommand } from './request-sign-in-code.command';
import { codeRequestedResponse } from './request-sign-in-code.dto';
import { RequestSignInCodeHandler } from './request-sign-in-code.handler';

function setup(admit?: Error) {
  const calls: string[] = [];
  const throttle = {
    admitRequest: jest.fn(() => (admit ? Promise.reject(admit) : Promise.resolve())),
  };
  const manager = {} as EntityManager;
  const addMail = jest.fn(() => {
    calls.push('outbox');
    return Promise.resolve();
  });
  const codeMail = {
    prepareSignIn: jest.fn(() => {
      calls.push('issue');
      return Promise.resolve(addMail);
    }),
    committed: jest.fn(() => calls.push('notify')),
  };
  const dataSource = {
    transaction: jest.fn((fn: (m: EntityManager) => Promise<unknown>) => {
      calls.push('begin');
      return fn(manager);
    }),
  };
  const handler = new RequestSignInCodeHandler(
    throttle as unknown as CodeThrottle,
    codeMail as unknown as CodeMail,
    dataSource as unknown as DataSource,
  );
  return { handler, throttle, codeMail, addMail, manager, calls };
}

describe('RequestSignInCodeHandler', () => {
  it('stores a fresh code, then mails it through the outbox in a transaction, then wakes the relay', async () => {
    const s = setup();
    await s.handler.execute(new RequestSignInCodeCommand('ada@example.com', '10.0.0.1'));
    expect(s.throttle.admitRequest).toHaveBeenCalledWith('10.0.0.1', 'ada@example.com');
    expect(s.codeMail.prepareSignIn).toHaveBeenCalledWith('ada@example.com');
    expect(s.addMail).toHaveBeenCalledWith(s.manager);
    expect(s.calls).toEqual(['issue', 'begin', 'outbox', 'notify']);
  });

  it('a rate-limited request stores and sends nothing', async () => {
    const limited = AuthErrors.rateLimited(900);
    const s = setup(limited);
    await expect(s.handler.execute(new RequestSignInCodeCommand('ada@example.com', '10.0.0.1'))).rejects.toBe(
      limited,
    );
    expect(s.codeMail.prepareSignIn).not.toHaveBeenCalled();
  });

  it('answers every address with the same body', () => {
    expect(JSON.stringify(codeRequestedResponse(600))).toBe(
      JSON.stringify({
        status: 'accepted',
        message: 'If this address can receive mail, a sign-in code is on its way. It works for 10 minutes.',
      }),
    );
  });
});
