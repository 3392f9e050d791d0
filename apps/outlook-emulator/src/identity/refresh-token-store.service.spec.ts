import type { Grant } from './grant';
import { IdentityError } from './identity-errors';
import { IdentitySettings } from './identity-settings';
import { RefreshTokenStore } from './refresh-token-store.service';

const grantFor = (address: string, clientId = 'app-1'): Grant => ({
  clientId,
  address,
  userId: 'u-1',
  tenantId: 't-1',
  scopes: ['Mail.Read'],
  oidc: ['openid', 'offline_access'],
  authTime: 0,
  publicClient: false,
});

const failure = (fn: () => unknown): IdentityError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof IdentityError) return err;
    throw err;
  }
  throw new Error('no error');
};

describe('RefreshTokenStore', () => {
  const day = 24 * 3600 * 1000;
  const t0 = Date.UTC(2026, 0, 1);
  let store: RefreshTokenStore;

  beforeEach(() => {
    store = new RefreshTokenStore(new IdentitySettings());
  });

  it('redeems a token for its own client only, any number of times (the old one stays valid)', () => {
    const rt = store.issue(grantFor('a@x.example'), t0);
    expect(store.redeem(rt, 'app-1', t0 + 1000).address).toBe('a@x.example');
    expect(store.redeem(rt, 'app-1', t0 + 2000).address).toBe('a@x.example');
    expect(failure(() => store.redeem(rt, 'app-2', t0)).key).toBe('invalidGrant');
    expect(store.issue(grantFor('a@x.example'), t0)).not.toBe(rt);
  });

  it('tells a malformed token from an unknown one', () => {
    expect(failure(() => store.redeem('nope', 'app-1')).entry.code).toBe(9002313);
    expect(failure(() => store.redeem(`0.A${'x'.repeat(60)}`, 'app-1')).entry.code).toBe(70000);
  });

  it('expires a token after 90 days without use, counting from its last use', () => {
    const rt = store.issue(grantFor('a@x.example'), t0);
    store.redeem(rt, 'app-1', t0 + 60 * day);
    expect(store.redeem(rt, 'app-1', t0 + 149 * day).address).toBe('a@x.example');
    const err = failure(() => store.redeem(rt, 'app-1', t0 + 239 * day + 1));
    expect(err.entry.code).toBe(700082);
    expect(err.message).toBe(
      'AADSTS700082: The refresh token has expired due to inactivity. The token was issued on ' +
        '2026-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00.',
    );
  });

  it('prints a short inactivity window as hh:mm:ss', () => {
    const shortLived = new RefreshTokenStore(new IdentitySettings(600, 3725));
    const rt = shortLived.issue(grantFor('a@x.example'), t0);
    expect(failure(() => shortLived.redeem(rt, 'app-1', t0 + 3725_000)).message).toContain(
      'inactive for 01:02:05.',
    );
  });

  it('revokes every live token of one mailbox and counts them', () => {
    const a1 = store.issue(grantFor('a@x.example'), t0);
    const a2 = store.issue(grantFor('a@x.example', 'app-2'), t0);
    const b1 = store.issue(grantFor('b@x.example'), t0);
    expect(store.revokeForMailbox(' A@X.example ', t0 + 5000)).toBe(2);
    expect(store.revokeForMailbox('a@x.example', t0 + 6000)).toBe(0);
    const err = failure(() => store.redeem(a1, 'app-1', t0 + 7000));
    expect(err.entry.code).toBe(50173);
    expect(err.message).toContain(
      "The grant was issued on '2026-01-01T00:00:00.0000000Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2026-01-01T00:00:05.0000000Z'.",
    );
    expect(failure(() => store.redeem(a2, 'app-2')).entry.code).toBe(50173);
    expect(store.redeem(b1, 'app-1', t0 + 7000).address).toBe('b@x.example');
    // tokens issued after the revocation work
    expect(store.redeem(store.issue(grantFor('a@x.example'), t0 + 8000), 'app-1', t0 + 9000).address).toBe(
      'a@x.example',
    );
  });

  it('forgets everything on reset', () => {
    const rt = store.issue(grantFor('a@x.example'));
    store.reset();
    expect(failure(() => store.redeem(rt, 'app-1')).key).toBe('invalidGrant');
  });
});
