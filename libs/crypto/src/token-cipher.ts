import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** What is stored at rest: the key id travels with the ciphertext so keys can rotate. */
export interface SealedSecret {
  keyId: string;
  /** base64(iv[12] | tag[16] | ciphertext) */
  data: string;
}

export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`No encryption key with id "${keyId}" is configured (TOKEN_ENCRYPTION_KEYS)`);
    this.name = 'UnknownKeyError';
  }
}

/**
 * AES-256-GCM for OAuth tokens at rest. The first key encrypts; every configured key decrypts,
 * so a rotation adds the new key in front and keeps the old one until re-encryption is done.
 * `aad` binds a ciphertext to its row (for example the account id) so it cannot be pasted onto another.
 */
export class TokenCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: ReadonlyArray<EncryptionKey>) {
    if (keys.length === 0) throw new Error('TokenCipher needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`Key "${k.id}" must be 32 bytes`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get activeKeyId(): string {
    return this.keys[0].id;
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: id, data: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') };
  }

  open(sealed: SealedSecret, aad: string): string {
    const key = this.byId.get(sealed.keyId);
    if (!key) throw new UnknownKeyError(sealed.keyId);
    const raw = Buffer.from(sealed.data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** True when the secret was sealed with an older key and should be re-sealed. */
  needsRotation(sealed: SealedSecret): boolean {
    return sealed.keyId !== this.activeKeyId;
  }
}
