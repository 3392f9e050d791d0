import { createSign, createVerify, type KeyObject } from 'node:crypto';

/** RS256 compact JWTs with node:crypto alone */

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  x5t?: string;
  [name: string]: unknown;
}

export type JwtClaims = Record<string, unknown>;

export interface ParsedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  /** `base64url(header).base64url(payload)`, the bytes the signature covers */
  signingInput: string;
  signature: Buffer;
}

/** the token is not a compact JWS at all (wrong number of parts, not base64url, not JSON objects) */
export class JwtFormatError extends Error {}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function signJwt(header: Omit<JwtHeader, 'alg'>, claims: JwtClaims, privateKey: KeyObject): string {
  const signingInput = `${encodeSegment({ typ: 'JWT', ...header, alg: 'RS256' })}.${encodeSegment(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function decodeSegment(segment: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw new JwtFormatError('segment is not base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwtFormatError('segment is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new JwtFormatError('segment is not an object');
  return value as Record<string, unknown>;
}

export function parseJwt(token: string): ParsedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtFormatError('a JWT has three parts');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeSegment(h);
  if (typeof header.alg !== 'string') throw new JwtFormatError('header has no alg');
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new JwtFormatError('signature is not base64url');
  return {
    header: header as JwtHeader,
    claims: decodeSegment(p),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

export function verifyRs256(jwt: ParsedJwt, publicKey: KeyObject): boolean {
  if (jwt.header.alg !== 'RS256' || jwt.signature.length === 0) return false;
  return createVerify('RSA-SHA256').update(jwt.signingInput).verify(publicKey, jwt.signature);
}
