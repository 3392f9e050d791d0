import { createHash, timingSafeEqual } from 'node:crypto';

export type CodeChallengeMethod = 'S256' | 'plain';

/** `code_challenge_method` as sent; absent means `plain` (RFC 7636 §4.3); anything else is refused */
export function parseChallengeMethod(value: string | undefined): CodeChallengeMethod | undefined {
  if (value === undefined || value === '') return 'plain';
  return value === 'S256' || value === 'plain' ? value : undefined;
}

/** the challenge a verifier yields: BASE64URL(SHA256(ASCII(verifier))) for S256, the verifier itself for plain */
export function codeChallengeFor(verifier: string, method: CodeChallengeMethod): string {
  return method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
}

/** whether `verifier` answers the challenge bound to the code (constant-time compare) */
export function verifyPkce(challenge: string, method: CodeChallengeMethod, verifier: string): boolean {
  // RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const expected = Buffer.from(challenge, 'ascii');
  const actual = Buffer.from(codeChallengeFor(verifier, method), 'ascii');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
