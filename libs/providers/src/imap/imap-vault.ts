import type { TokenCipher } from '@email-core/crypto';
import type { MailAccountTokensRepository } from '@email-core/database';
import {
  CredentialsNotFoundError,
  ReauthRequiredError,
  type CredentialVault,
  type KeptCredentials,
  type SealedCredentials,
} from '../port';
import type { ImapAccountSettings, MailServerSettings } from './imap-settings';

/** The sealed settings never expire by time: the password works until the server refuses it. */
export const IMAP_SETTINGS_NEVER_EXPIRE = new Date('9999-12-31T00:00:00.000Z');

/** Binds a ciphertext to its account and purpose, so it cannot be moved to another row or column. */
const aad = (accountId: string, purpose: 'imap_settings' | 'imap_none') =>
  `mail_accounts:${accountId}:${purpose}`;

/**
 * The IMAP adapter's vault: an account's server settings (both logins included) as one JSON document, sealed with
 * `TokenCipher` (AES-256-GCM, bound to the account) into `mail_accounts.access_token_enc`; the refresh column holds
 * a sealed empty string and the expiry is far in the future. `credentialFor` answers the settings JSON,
 * `settingsFor` the parsed settings. Nothing is cached: the row is read for each session.
 */
export class ImapCredentialVault implements CredentialVault<ImapAccountSettings> {
  constructor(
    private readonly cipher: TokenCipher,
    private readonly repo: MailAccountTokensRepository,
  ) {}

  seal(accountId: string, settings: ImapAccountSettings): SealedCredentials {
    const sealed = this.cipher.seal(JSON.stringify(settings), aad(accountId, 'imap_settings'));
    const none = this.cipher.seal('', aad(accountId, 'imap_none'));
    return {
      keyId: sealed.keyId,
      accessTokenEnc: sealed.data,
      accessTokenExpiresAt: IMAP_SETTINGS_NEVER_EXPIRE,
      refreshTokenEnc: none.data,
    };
  }

  async credentialFor(accountId: string): Promise<string> {
    const row = await this.repo.loadTokens(accountId);
    if (!row || !row.keyId || !row.accessTokenEnc) throw new CredentialsNotFoundError(accountId);
    if (row.status === 'reauth_required') {
      throw new ReauthRequiredError('the account has to be linked again');
    }
    return this.open(accountId, row.keyId, row.accessTokenEnc);
  }

  credentialFromSealed(accountId: string, sealed: KeptCredentials): Promise<string> {
    if (!sealed.keyId || !sealed.accessTokenEnc) {
      return Promise.reject(new CredentialsNotFoundError(accountId));
    }
    try {
      return Promise.resolve(this.open(accountId, sealed.keyId, sealed.accessTokenEnc));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** the account's settings, parsed and checked */
  async settingsFor(accountId: string): Promise<ImapAccountSettings> {
    return parseImapSettings(accountId, await this.credentialFor(accountId));
  }

  /** Nothing is held in memory. */
  forget(): void {
    return undefined;
  }

  private open(accountId: string, keyId: string, data: string): string {
    try {
      return this.cipher.open({ keyId, data }, aad(accountId, 'imap_settings'));
    } catch {
      // not ours (another provider's tokens) or tampered with: as good as none
      throw new CredentialsNotFoundError(accountId);
    }
  }
}

/** Sealed settings as `ImapAccountSettings`; `CredentialsNotFoundError` when they are not settings at all. */
export function parseImapSettings(accountId: string, json: string): ImapAccountSettings {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new CredentialsNotFoundError(accountId);
  }
  const s = v as Partial<ImapAccountSettings>;
  if (typeof s?.email !== 'string' || !isServer(s.imap) || !isServer(s.smtp)) {
    throw new CredentialsNotFoundError(accountId);
  }
  return s as ImapAccountSettings;
}

function isServer(v: unknown): v is MailServerSettings {
  const s = v as Partial<MailServerSettings> | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.host === 'string' &&
    Number.isInteger(s.port) &&
    (s.security === 'tls' || s.security === 'starttls' || s.security === 'none') &&
    typeof s.username === 'string' &&
    typeof s.password === 'string'
  );
}
