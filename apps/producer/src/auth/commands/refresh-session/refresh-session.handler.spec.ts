import { Logger } from '@nestjs/common';
import type {
  RefreshSessionsRepository,
  RotateResult,
  UserRecord,
  UsersRepository,
} from '@email-core/database';
import type { IssuedSession, NewRefreshToken, SessionIssuer } from '../../session/session-issuer';
import { hashRefreshToken, newRefreshToken } from '../../tokens/refresh-token';
import { RefreshSessionCommand } from './refresh-session.command';
import { RefreshSessionHandler } from './refresh-session.handler';

const user: UserRecord = { id: 'u1', email: 'ada@example.com', createdAt: new Date() };
const next: NewRefreshToken = { id: 's2', token: 'next', tokenHash: 'h2', expiresAt: new Date() };

function setup(result: RotateResult, found: UserRecord | null = user) {
  const sessions = {
    rotate: jest.fn((_hash: string, _next: unknown) => Promise.resolve(result)),
    revokeFamily: jest.fn(() => Promise.resolve()),
  };
  const users = { findById: jest.fn(() => Promise.resolve(found)) };
  const issued = { accessToken: 'jwt' } as IssuedSession;
  const issuer = {
    newRefreshToken: jest.fn(() => next),
    complete: jest.fn(() => Promise.resolve(issued)),
  };
  const handler = new RefreshSessionHandler(
    sessions as unknown as RefreshSessionsRepository,
    users as unknown as UsersRepository,
    issuer as unknown as SessionIssuer,
  );
  return { handler, sessions, users, issuer, issued };
}

describe('RefreshSessionHandler', () => {
  const token = newRefreshToken();
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('rotates a current token: looks it up by its hash and issues the successor with a new access token', async () => {
    const s = setup({ status: 'rotated', userId: 'u1', familyId: 'f1' });
    await expect(s.handler.execute(new RefreshSessionCommand(token))).resolves.toBe(s.issued);
    expect(s.sessions.rotate).toHaveBeenCalledWith(hashRefreshToken(token), next);
    expect(s.issuer.complete).toHaveBeenCalledWith(user, next);
  });

  it('answers a replayed token with REFRESH_REUSED, and logs ids but never the token', async () => {
    const s = setup({ status: 'reused', userId: 'u1', familyId: 'f1' });
    await expect(s.handler.execute(new RefreshSessionCommand(token))).rejects.toMatchObject({
      code: 'REFRESH_REUSED',
      kind: 'unauthenticated',
    });
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String((warn.mock.calls as unknown[][])[0]?.[0]);
    expect(line).toContain('f1');
    expect(line).not.toContain(token);
    expect(line).not.toContain(hashRefreshToken(token));
  });

  it.each(['unknown', 'revoked', 'expired'] as const)(
    'answers a %s token with REFRESH_INVALID',
    async (status) => {
      const s = setup({ status });
      await expect(s.handler.execute(new RefreshSessionCommand(token))).rejects.toMatchObject({
        code: 'REFRESH_INVALID',
      });
      expect(s.issuer.complete).not.toHaveBeenCalled();
    },
  );

  it('refuses a missing or malformed cookie without touching the database', async () => {
    for (const cookie of [undefined, '', 'x'.repeat(10)]) {
      const s = setup({ status: 'unknown' });
      await expect(s.handler.execute(new RefreshSessionCommand(cookie))).rejects.toMatchObject({
        code: 'REFRESH_INVALID',
      });
      expect(s.sessions.rotate).not.toHaveBeenCalled();
    }
  });

  it('revokes the family of a user who no longer exists', async () => {
    const s = setup({ status: 'rotated', userId: 'u1', familyId: 'f1' }, null);
    await expect(s.handler.execute(new RefreshSessionCommand(token))).rejects.toMatchObject({
      code: 'REFRESH_INVALID',
    });
    expect(s.sessions.revokeFamily).toHaveBeenCalledWith('f1');
  });
});
