import { randomBytes, randomUUID } from 'node:crypto';
import { TokenCipher } from '@email-core/crypto';
import type { MailAccountTokensRepository, StoredAccountTokens } from '@email-core/database';
import { CredentialsNotFoundError, ReauthRequiredError } from '../port';
import type { ImapAccountSettings } from './imap-settings';
import { IMAP_SETTINGS_NEVER_EXPIRE, ImapCredentialVault } from './imap-vault';

const PASSWORD = 'correct horse battery staple';
const settings: ImapAccountSettings = {
  email: 'ada@example.org',
  imap: { host: 'imap.example.org', port: 993, security: 'tls', username: 'ada', password: PASSWORD },
  smtp: { host: 'smtp.example.org', port: 587, security: 'starttls', username: 'ada', password: PASSWORD },
};

function vaultWithRow() {
  const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
  let row: StoredAccountTokens | null = null;
  const repo = { loadTokens: (id: string) => Promise.resolve(row?.accountId === id ? row : null) };
  const vault = new ImapCredentialVault(cipher, repo as unknown as MailAccountTokensRepository);
  const store = (accountId: string, status: StoredAccountTokens['status'] = 'synced') => {
    const sealed = vault.seal(accountId, settings);
    row = { accountId, userId: randomUUID(), status, tokenVersion: 1, ...sealed };
    return sealed;
  };
  return { vault, store, cipher };
}

describe('ImapCredentialVault', () => {
  it('seals the settings into the token columns and opens them again', async () => {
    const { vault, store } = vaultWithRow();
    const accountId = randomUUID();
    const sealed = store(accountId);
    expect(sealed.keyId).toBe('k1');
    expect(sealed.accessTokenExpiresAt).toEqual(IMAP_SETTINGS_NEVER_EXPIRE);
    expect(JSON.parse(await vault.credentialFor(accountId))).toEqual(settings);
    expect(await vault.settingsFor(accountId)).toEqual(settings);
    await expect(vault.credentialFromSealed(accountId, sealed)).resolves.toBe(JSON.stringify(settings));
  });

  it('never writes the password (or the settings) in clear into any sealed column', () => {
    const { vault } = vaultWithRow();
    const sealed = vault.seal(randomUUID(), settings);
    const columns = JSON.stringify(sealed);
    for (const clear of [PASSWORD, 'imap.example.org', 'ada@example.org']) {
      expect(columns).not.toContain(clear);
      expect(columns).not.toContain(Buffer.from(clear).toString('base64'));
    }
    // sealing twice gives other ciphertexts (a fresh IV each time)
    expect(vault.seal(randomUUID(), settings).accessTokenEnc).not.toBe(sealed.accessTokenEnc);
  });

  it('binds the sealed settings to their account', async () => {
    const { vault } = vaultWithRow();
    const sealed = vault.seal(randomUUID(), settings);
    const other = randomUUID();
    await expect(vault.credentialFromSealed(other, sealed)).rejects.toBeInstanceOf(CredentialsNotFoundError);
  });

  it('answers CredentialsNotFound without a row, ReauthRequired for an account to link again', async () => {
    const { vault, store } = vaultWithRow();
    await expect(vault.credentialFor(randomUUID())).rejects.toBeInstanceOf(CredentialsNotFoundError);
    const accountId = randomUUID();
    store(accountId, 'reauth_required');
    await expect(vault.settingsFor(accountId)).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(
      vault.credentialFromSealed(accountId, {
        keyId: null,
        accessTokenEnc: null,
        accessTokenExpiresAt: null,
        refreshTokenEnc: null,
      }),
    ).rejects.toBeInstanceOf(CredentialsNotFoundError);
  });
});
