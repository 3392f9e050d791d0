import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { z } from 'zod';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';

/** How long a user has to finish signing in at Microsoft. */
export const OAUTH_STATE_TTL_SECONDS = 600;

/** What the server remembers between authorize and callback; none of it ever leaves the server. */
export interface PendingLink {
  userId: string;
  /** the PKCE verifier: only its challenge went to Microsoft */
  codeVerifier: string;
  /** hash of the link cookie of the browser that started the link (see link-browser-cookie.ts) */
  browserBinding: string;
  createdAt: string;
}

const pendingLinkSchema = z.object({
  userId: z.string().uuid(),
  codeVerifier: z.string().min(43),
  browserBinding: z.string().min(1),
  createdAt: z.string().datetime(),
});

/** 256 random bits, URL-safe; the state is both the CSRF token and the key to the pending link */
const STATE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The OAuth `state` of a link in progress: random, bound to the signed-in user, kept in the Redis Cluster for
 * ten minutes, and single use (taken with GETDEL, so of two concurrent callbacks with one state only one wins).
 * The callback peeks first and takes only for the browser that started the link.
 */
@Injectable()
export class OAuthStateStore {
  constructor(@Inject(REDIS_CLUSTER) private readonly redis: Cluster) {}

  newState(): string {
    return randomBytes(32).toString('base64url');
  }

  async put(state: string, link: PendingLink): Promise<void> {
    const ok = await this.redis.set(
      CacheKeys.oauthState(state),
      JSON.stringify(link),
      'EX',
      OAUTH_STATE_TTL_SECONDS,
      'NX',
    );
    if (ok !== 'OK') throw new Error('OAuth state collision');
  }

  /**
   * The pending link, left in place: the callback checks the browser binding with it first, so a request from
   * another browser cannot spend the state the right browser is about to bring back.
   */
  async peek(state: string): Promise<PendingLink | null> {
    if (!STATE.test(state)) return null;
    return parsePending(await this.redis.get(CacheKeys.oauthState(state)));
  }

  /** The pending link, removed as it is read; null when the state is malformed, unknown, expired or used. */
  async take(state: string): Promise<PendingLink | null> {
    if (!STATE.test(state)) return null;
    return parsePending(await this.redis.getdel(CacheKeys.oauthState(state)));
  }
}

function parsePending(raw: string | null): PendingLink | null {
  if (raw === null) return null;
  const parsed = pendingLinkSchema.safeParse(safeJson(raw));
  if (!parsed.success) return null;
  const age = Date.now() - Date.parse(parsed.data.createdAt);
  return age >= 0 && age <= OAUTH_STATE_TTL_SECONDS * 1000 ? parsed.data : null;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}
