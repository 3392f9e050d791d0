import { createHash, createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';

/** What a code proves: a sign-in for an address, or that a signed-in user receives mail at theirs. */
export type CodePurpose = 'sign-in' | 'verify-email';

/** A uniformly random 6-digit code, leading zeros kept. */
export function newOneTimeCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** `123456`, also when pasted with spaces or a dash (`123 456`, `123-456`); null for anything else */
export function normalizeCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(digits) ? digits : null;
}

/**
 * HMAC-SHA256 of codes under a key derived (HKDF) from `JWT_SECRET`: Redis holds only MACs, bound to the purpose
 * and the subject (the address, or the user and address), so a code works only for what it was sent for.
 */
export class CodeMac {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'email-core', 'one-time-codes/v1', 32));
  }

  mac(purpose: CodePurpose, subject: string, code: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${subject}\0${code}`, 'utf8').digest('hex');
  }

  /** constant-time, whatever the inputs (a malformed stored value compares unequal) */
  static equal(a: string, b: string): boolean {
    const x = Buffer.from(a, 'hex');
    const y = Buffer.from(b, 'hex');
    return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
  }
}

/** The Redis key's subject: a hash, so Redis holds no address. */
export function codeSubjectKey(subject: string): string {
  return createHash('sha256').update(subject.toLowerCase(), 'utf8').digest('hex').slice(0, 32);
}
