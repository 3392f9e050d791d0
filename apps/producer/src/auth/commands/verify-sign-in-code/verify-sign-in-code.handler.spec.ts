import type { UserRecord, UsersRepository } from '@email-core/database';
import type { CodeCheck, CodeStore } from '../../codes/code-store';
import type { CodeThrottle } from '../../codes/code-throttle';
import type { IssuedSession, SessionIssuer } from '../../session/session-issuer';
import { VerifySignInCodeCommand } from './verify-sign-in-code.command';
import { VerifySignInCodeHandler } from './verify-sign-in-code.handler';

const user: UserRecord = { id: 'u1', email: 'ada@example.com', createdAt: new Date() };

function setup(check: CodeCheck) {
  const throttle = { admitVerify: jest.fn(() => Promise.resolve()) };
  const codes = { check: jest.fn(() => Promise.resolve(check)) };
  const users = { findOrCreateVerified: jest.fn(() => Promise.resolve(user)) };
  const session = { accessToken: 'jwt' } as IssuedSession;
  const sessions = { startFamily: jest.fn(() => Promise.resolve(session)) };
  const handler = new VerifySignInCodeHandler(
    throttle as unknown as CodeThrottle,
    codes as unknown as CodeStore,
    users as unknown as UsersRepository,
    sessions as unknown as SessionIssuer,
  );
  return { handler, throttle, codes, users, sessions, session };
}

const command = new VerifySignInCodeCommand('ada@example.com', '123456', '10.0.0.1');

describe('VerifySignInCodeHandler', () => {
  it('the right code finds or creates the user, verified, and starts a session', async () => {
    const s = setup('ok');
    await expect(s.handler.execute(command)).resolves.toBe(s.session);
    expect(s.throttle.admitVerify).toHaveBeenCalledWith('10.0.0.1');
    expect(s.codes.check).toHaveBeenCalledWith('sign-in', 'ada@example.com', '123456');
    expect(s.users.findOrCreateVerified).toHaveBeenCalledWith(
      expect.objectContaining({ email: 'ada@example.com' }),
    );
    expect(s.sessions.startFamily).toHaveBeenCalledWith(user);
  });

  it.each([
    ['invalid', 'CODE_INVALID'],
    ['expired', 'CODE_EXPIRED'],
    ['exhausted', 'CODE_ATTEMPTS_EXCEEDED'],
  ] as const)('a %s code answers %s and creates nobody', async (check, code) => {
    const s = setup(check);
    await expect(s.handler.execute(command)).rejects.toMatchObject({ code, kind: 'invalid' });
    expect(s.users.findOrCreateVerified).not.toHaveBeenCalled();
    expect(s.sessions.startFamily).not.toHaveBeenCalled();
  });
});
