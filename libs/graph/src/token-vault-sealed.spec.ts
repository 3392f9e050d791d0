import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { TokenCipher } from '@email-core/crypto';
import type { MailAccountTokensRepository } from '@email-core/database';
import { TokenVault, type TokenRefresher } from './token-vault';
import { ReauthRequiredError, type TokenSet } from './types';

const ACCOUNT = '9b2f4c1e-3a57-4c0b-8d7e-1f2a3b4c5d6e';

function vault(refresh: TokenRefresher['refresh']) {
  const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
  const refreshes: string[] = [];
  const v = new TokenVault(
    {} as MailAccountTokensRepository,
    {} as Cluster,
    {
      refresh: (rt) => {
        refreshes.push(rt);
        return refresh(rt);
      },
    },
    cipher,
  );
  const sealed = (accessExpiresInMs: number) => ({
    ...v.seal(ACCOUNT, {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      accessTokenExpiresAt: new Date(Date.now() + accessExpiresInMs),
    }),
  });
  return { v, sealed, refreshes };
}

const fresh: TokenSet = {
  accessToken: 'access-2',
  refreshToken: 'refresh-2',
  accessTokenExpiresAt: new Date(Date.now() + 3600_000),
};

describe('TokenVault.accessTokenFromSealed (tokens kept after their account was unlinked)', () => {
  it('opens the sealed access token while it is fresh, without a refresh', async () => {
    const { v, sealed, refreshes } = vault(() => Promise.resolve(fresh));
    await expect(v.accessTokenFromSealed(ACCOUNT, sealed(30 * 60_000))).resolves.toBe('access-1');
    expect(refreshes).toEqual([]);
  });

  it('refreshes with the sealed refresh token when the access token is due, or when forced', async () => {
    const { v, sealed, refreshes } = vault(() => Promise.resolve(fresh));
    await expect(v.accessTokenFromSealed(ACCOUNT, sealed(-1000))).resolves.toBe('access-2');
    await expect(v.accessTokenFromSealed(ACCOUNT, sealed(30 * 60_000), { forceRefresh: true })).resolves.toBe(
      'access-2',
    );
    expect(refreshes).toEqual(['refresh-1', 'refresh-1']);
  });

  it('passes a dead refresh token on as ReauthRequiredError', async () => {
    const { v, sealed } = vault(() => Promise.reject(new ReauthRequiredError('refresh token revoked')));
    await expect(v.accessTokenFromSealed(ACCOUNT, sealed(-1000))).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it('cannot open tokens sealed for another account', async () => {
    const { v, sealed } = vault(() => Promise.resolve(fresh));
    await expect(
      v.accessTokenFromSealed('00000000-0000-4000-8000-000000000000', sealed(30 * 60_000)),
    ).rejects.toThrow();
  });
});
