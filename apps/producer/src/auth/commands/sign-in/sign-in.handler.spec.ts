import type { UserCredentials, UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import type { PasswordHasher } from '../../passwords/password-hasher';
import type { AuthThrottle } from '../../rate-limit/auth-throttle';
import type { IssuedSession, SessionIssuer } from '../../session/session-issuer';
import { SignInCommand } from './sign-in.command';
import { SignInHandler } from './sign-in.handler';

const user: UserCredentials = {
  id: '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10',
  email: 'ada@example.com',
  createdAt: new Date('2025-01-01T00:00:00Z'),
  passwordHash: '$argon2id$stored',
};

function setup(
  opts: { known?: boolean; valid?: boolean; admit?: Error; stale?: boolean; codeOnly?: boolean } = {},
) {
  const throttle = {
    admitSignIn: jest.fn(() => (opts.admit ? Promise.reject(opts.admit) : Promise.resolve())),
    clearSignInFailures: jest.fn(() => Promise.resolve()),
  };
  const hasher = {
    verify: jest.fn(() => Promise.resolve(opts.valid ?? true)),
    verifyAgainstDummy: jest.fn(() => Promise.resolve()),
    needsRehash: jest.fn(() => opts.stale ?? false),
    hash: jest.fn(() => Promise.resolve('$argon2id$new')),
  };
  const users = {
    findCredentialsByEmail: jest.fn(() =>
      Promise.resolve(opts.known === false ? null : opts.codeOnly ? { ...user, passwordHash: null } : user),
    ),
    updatePasswordHash: jest.fn(() => Promise.resolve()),
  };
  const session = { accessToken: 'jwt' } as IssuedSession;
  const sessions = { startFamily: jest.fn(() => Promise.resolve(session)) };
  const handler = new SignInHandler(
    throttle as unknown as AuthThrottle,
    hasher as unknown as PasswordHasher,
    users as unknown as UsersRepository,
    sessions as unknown as SessionIssuer,
  );
  return { handler, throttle, hasher, users, sessions, session };
}

const command = new SignInCommand('ada@example.com', 'the password', '10.0.0.1');

describe('SignInHandler', () => {
  it('signs in with the right password: clears the failures and starts a session family, without the hash', async () => {
    const s = setup();
    await expect(s.handler.execute(command)).resolves.toBe(s.session);
    expect(s.throttle.admitSignIn).toHaveBeenCalledWith('10.0.0.1', 'ada@example.com');
    expect(s.hasher.verify).toHaveBeenCalledWith('$argon2id$stored', 'the password');
    expect(s.throttle.clearSignInFailures).toHaveBeenCalledWith('10.0.0.1', 'ada@example.com');
    expect(s.sessions.startFamily).toHaveBeenCalledWith({
      id: user.id,
      email: user.email,
      createdAt: user.createdAt,
    });
    expect(s.users.updatePasswordHash).not.toHaveBeenCalled();
  });

  it('a wrong password is INVALID_CREDENTIALS and keeps the failure admitSignIn counted', async () => {
    const s = setup({ valid: false });
    await expect(s.handler.execute(command)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
      kind: 'unauthenticated',
    });
    expect(s.throttle.admitSignIn).toHaveBeenCalledWith('10.0.0.1', 'ada@example.com');
    expect(s.throttle.clearSignInFailures).not.toHaveBeenCalled();
    expect(s.sessions.startFamily).not.toHaveBeenCalled();
  });

  it('an unknown address spends a dummy verification, then answers exactly like a wrong password', async () => {
    const s = setup({ known: false });
    const err = await s.handler.execute(command).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'the email or password is incorrect' });
    expect(s.hasher.verifyAgainstDummy).toHaveBeenCalledWith('the password');
    expect(s.throttle.clearSignInFailures).not.toHaveBeenCalled();
  });

  it('a throttled attempt never reaches the password check', async () => {
    const limited = AuthErrors.rateLimited(60);
    const s = setup({ admit: limited });
    await expect(s.handler.execute(command)).rejects.toBe(limited);
    expect(s.users.findCredentialsByEmail).not.toHaveBeenCalled();
    expect(s.hasher.verify).not.toHaveBeenCalled();
    expect(s.hasher.verifyAgainstDummy).not.toHaveBeenCalled();
  });

  it('re-hashes a password whose hash used older parameters', async () => {
    const s = setup({ stale: true });
    await s.handler.execute(command);
    expect(s.hasher.hash).toHaveBeenCalledWith('the password');
    expect(s.users.updatePasswordHash).toHaveBeenCalledWith(user.id, '$argon2id$new');
  });

  it('a user who only signs in by code has no password: a dummy verification, then INVALID_CREDENTIALS', async () => {
    const s = setup({ codeOnly: true });
    await expect(s.handler.execute(command)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(s.hasher.verify).not.toHaveBeenCalled();
    expect(s.hasher.verifyAgainstDummy).toHaveBeenCalledWith('the password');
    expect(s.sessions.startFamily).not.toHaveBeenCalled();
  });
});
