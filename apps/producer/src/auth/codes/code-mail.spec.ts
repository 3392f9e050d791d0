import type { EntityManager } from 'typeorm';
import type { ProducerConfig } from '@email-core/config';
import { CodeMail, verificationSubject } from './code-mail';
import type { CodeStore } from './code-store';
import type { SystemMailOutbox } from './system-mail-outbox';

function setup() {
  const codes = { issue: jest.fn(() => Promise.resolve()) };
  const mail = { add: jest.fn(() => Promise.resolve()), committed: jest.fn() };
  const config = { codes: { signInTtlSeconds: 600, verifyEmailTtlSeconds: 86_400 } } as ProducerConfig;
  const codeMail = new CodeMail(config, codes as unknown as CodeStore, mail as unknown as SystemMailOutbox);
  return { codeMail, codes, mail };
}

describe('CodeMail', () => {
  const manager = {} as EntityManager;

  it('a sign-in code: stored for the address, mailed (in the caller transaction) with the same code', async () => {
    const s = setup();
    const add = await s.codeMail.prepareSignIn('ada@example.com');
    expect(s.mail.add).not.toHaveBeenCalled();
    await add(manager);
    const [purpose, subject, code, ttl] = s.codes.issue.mock.calls[0] as unknown as [
      string,
      string,
      string,
      number,
    ];
    expect([purpose, subject, ttl]).toEqual(['sign-in', 'ada@example.com', 600]);
    expect(code).toMatch(/^\d{6}$/);
    expect(s.mail.add).toHaveBeenCalledWith(manager, {
      template: 'sign-in-code',
      to: 'ada@example.com',
      code,
      validSeconds: 600,
    });
  });

  it('a verification code is bound to the user and their address', async () => {
    const s = setup();
    await (
      await s.codeMail.prepareVerification({ id: 'u1', email: 'Ada@Example.com' })
    )(manager);
    expect(s.codes.issue).toHaveBeenCalledWith(
      'verify-email',
      'u1:ada@example.com',
      expect.stringMatching(/^\d{6}$/),
      86_400,
    );
    expect(s.mail.add).toHaveBeenCalledWith(
      manager,
      expect.objectContaining({ template: 'verify-email', to: 'Ada@Example.com', validSeconds: 86_400 }),
    );
    expect(verificationSubject('u1', 'A@B.c')).toBe('u1:a@b.c');
  });
});
