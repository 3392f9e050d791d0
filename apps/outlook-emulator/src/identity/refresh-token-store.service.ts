import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Grant } from './grant';
import { OPAQUE_TOKEN } from './grant';
import { IdentityError } from './identity-errors';
import { IdentitySettings } from './identity-settings';

interface RefreshTokenRecord {
  grant: Grant;
  issuedAt: number;
  lastUsedAt: number;
  /** epoch ms of the revocation that ended it (the user's TokensValidFrom) */
  revokedAt?: number;
}

/**
 * Refresh tokens, as Microsoft documents them (refresh-tokens.md): every use returns a new one and the old one
 * stays valid; each expires after `refreshTokenInactiveSeconds` (90 days) without use (AADSTS700082); revoking
 * a user's sessions ends them all (AADSTS50173).
 */
@Injectable()
export class RefreshTokenStore {
  private readonly tokens = new Map<string, RefreshTokenRecord>();

  constructor(private readonly settings: IdentitySettings) {}

  issue(grant: Grant, now = Date.now()): string {
    const token = `0.A${randomBytes(96).toString('base64url')}`;
    this.tokens.set(token, { grant, issuedAt: now, lastUsedAt: now });
    return token;
  }

  /** the grant a refresh token stands for, checked for its client, revocation and inactivity; marks it used */
  redeem(token: string, clientId: string, now = Date.now()): Grant {
    const record = this.tokens.get(token);
    if (!record) throw new IdentityError(OPAQUE_TOKEN.test(token) ? 'invalidGrant' : 'malformedGrant');
    if (record.grant.clientId !== clientId) throw new IdentityError('invalidGrant');
    if (record.revokedAt !== undefined) {
      throw new IdentityError('refreshTokenRevoked', {
        issuedAt: dotNetIso(record.issuedAt),
        validFrom: dotNetIso(record.revokedAt),
      });
    }
    const lifetimeMs = this.settings.refreshTokenInactiveSeconds * 1000;
    if (now - record.lastUsedAt >= lifetimeMs) {
      throw new IdentityError('refreshTokenInactive', {
        issuedAt: dotNetIso(record.issuedAt),
        inactiveFor: timeSpan(this.settings.refreshTokenInactiveSeconds),
      });
    }
    record.lastUsedAt = now;
    return record.grant;
  }

  /**
   * Revokes every refresh token of a mailbox, as a password reset or "revoke sessions" does.
   * Returns how many live tokens it ended.
   */
  revokeForMailbox(address: string, now = Date.now()): number {
    const wanted = address.trim().toLowerCase();
    let revoked = 0;
    for (const record of this.tokens.values()) {
      if (record.grant.address === wanted && record.revokedAt === undefined) {
        record.revokedAt = now;
        revoked++;
      }
    }
    return revoked;
  }

  reset(): void {
    this.tokens.clear();
  }
}

/** `2021-01-05T05:09:31.5970000Z`: .NET's round-trip format, seven fractional digits, as AAD prints dates */
function dotNetIso(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** `90.00:00:00` or `00:00:02`: .NET's TimeSpan format, as AAD prints the inactivity window */
function timeSpan(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${pad(Math.floor((totalSeconds % 86400) / 3600))}:${pad(Math.floor((totalSeconds % 3600) / 60))}:${pad(totalSeconds % 60)}`;
  return days ? `${days}.${hms}` : hms;
}
