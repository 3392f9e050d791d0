import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Grant } from './grant';
import { OPAQUE_TOKEN } from './grant';
import { IdentityError } from './identity-errors';
import { IdentitySettings } from './identity-settings';
import type { CodeChallengeMethod } from './pkce';
import { verifyPkce } from './pkce';

/** what an authorization code is bound to besides the grant itself */
export interface CodeBinding {
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod: CodeChallengeMethod;
  nonce?: string;
}

export interface CodeRedemption {
  clientId: string;
  /** absent when the request had none */
  redirectUri?: string;
  codeVerifier?: string;
}

interface CodeRecord {
  grant: Grant;
  binding: CodeBinding;
  expiresAt: number;
  redeemed: boolean;
}

/** records of spent and expired codes are kept this long, so they answer 54005/70008 rather than "unknown" */
const KEEP_AFTER_EXPIRY_MS = 60 * 60 * 1000;

/**
 * Authorization codes: random, single use, valid `authCodeTtlSeconds` (10 minutes), bound to the client, the
 * redirect URI, the scopes, the PKCE challenge, the nonce and the mailbox.
 */
@Injectable()
export class AuthorizationCodeService {
  private readonly codes = new Map<string, CodeRecord>();

  constructor(private readonly settings: IdentitySettings) {}

  issue(grant: Grant, binding: CodeBinding, now = Date.now()): string {
    this.prune(now);
    const code = `1.A${randomBytes(64).toString('base64url')}`;
    this.codes.set(code, {
      grant,
      binding,
      expiresAt: now + this.settings.authCodeTtlSeconds * 1000,
      redeemed: false,
    });
    return code;
  }

  /**
   * Checks a code presented at /token and spends it: any redemption attempt of a live code uses it up, as
   * RFC 6749 §4.1.2 requires of a single-use code.
   */
  redeem(code: string, request: CodeRedemption, now = Date.now()): { grant: Grant; binding: CodeBinding } {
    const record = this.codes.get(code);
    if (!record) throw new IdentityError(OPAQUE_TOKEN.test(code) ? 'invalidGrant' : 'malformedGrant');
    if (record.redeemed) throw new IdentityError('codeRedeemed');
    if (now >= record.expiresAt) throw new IdentityError('codeExpired');
    if (record.grant.clientId !== request.clientId) throw new IdentityError('invalidGrant');
    record.redeemed = true;
    const { binding } = record;
    if (request.redirectUri === undefined) throw new IdentityError('redirectUriRequired');
    if (request.redirectUri !== binding.redirectUri) {
      throw new IdentityError('redirectUriMismatch', {
        redirectUri: request.redirectUri,
        clientId: request.clientId,
      });
    }
    if (binding.codeChallenge !== undefined) {
      if (request.codeVerifier === undefined)
        throw new IdentityError('missingParameter', { name: 'code_verifier' });
      if (!verifyPkce(binding.codeChallenge, binding.codeChallengeMethod, request.codeVerifier)) {
        throw new IdentityError('pkceMismatch');
      }
    }
    return { grant: record.grant, binding };
  }

  reset(): void {
    this.codes.clear();
  }

  private prune(now: number): void {
    for (const [code, record] of this.codes) {
      // codes share one lifetime, so insertion order is expiry order
      if (now <= record.expiresAt + KEEP_AFTER_EXPIRY_MS) break;
      this.codes.delete(code);
    }
  }
}
