import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../../config.module';
import { redisCall } from '../redis-call';
import { CodeMac, codeSubjectKey, type CodePurpose } from './one-time-code';

/** Wrong tries a code survives: the fifth wrong one burns it. */
export const MAX_CODE_TRIES = 5;
/** the key outlives the code by this much, so a late try is told CODE_EXPIRED rather than CODE_INVALID */
const EXPIRED_MEMORY_MS = 15 * 60 * 1000;

export type CodeCheck = 'ok' | 'invalid' | 'expired' | 'exhausted';

/** KEYS[1] the code. ARGV: mac, expires-at (ms), key ttl (ms). Replaces any earlier code with a fresh one. */
const ISSUE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[1], 'exp', ARGV[2], 'tries', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * KEYS[1] the code. ARGV: now (ms), max tries. Counts the try before the comparison (so concurrent guesses cannot
 * all pass a check made before any failed) and hands back the MAC to compare: {'ok', mac, tries}, or
 * {'none'|'expired'|'exhausted'}.
 */
const BEGIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if tonumber(ARGV[1]) >= exp then return {'expired'} end
local tries = tonumber(redis.call('HGET', KEYS[1], 'tries') or '0')
if tries >= tonumber(ARGV[2]) then return {'exhausted'} end
tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {'ok', redis.call('HGET', KEYS[1], 'mac'), tostring(tries)}
`;

/** KEYS[1] the code. ARGV: the matching mac. Spends the code once: 1 for the one caller that got it, else 0. */
const CONSUME = `
if redis.call('HGET', KEYS[1], 'mac') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * One-time codes in the Redis Cluster, one per purpose and subject: only the HMAC is stored (never the code), with
 * the code's expiry; a new code replaces the old one; {@link MAX_CODE_TRIES} wrong tries burn it; the right one
 * spends it (deleted), so it never works again. The comparison is constant-time, in this process.
 */
@Injectable()
export class CodeStore {
  private readonly macs: CodeMac;

  constructor(
    @Inject(REDIS_CLUSTER) private readonly redis: Cluster,
    @Inject(PRODUCER_CONFIG) config: ProducerConfig,
  ) {
    this.macs = new CodeMac(config.jwtSecret);
  }

  /** Stores `code` (as its MAC) for `ttlSeconds`, replacing the subject's earlier code. */
  async issue(purpose: CodePurpose, subject: string, code: string, ttlSeconds: number): Promise<void> {
    const ttlMs = ttlSeconds * 1000;
    await this.run(
      this.redis.eval(
        ISSUE,
        1,
        this.key(purpose, subject),
        this.macs.mac(purpose, subject, code),
        String(Date.now() + ttlMs),
        String(ttlMs + EXPIRED_MEMORY_MS),
      ),
    );
  }

  /** Checks `code` against the subject's code and spends it when right. */
  async check(purpose: CodePurpose, subject: string, code: string): Promise<CodeCheck> {
    const key = this.key(purpose, subject);
    const candidate = this.macs.mac(purpose, subject, code);
    const answer = await this.run(this.redis.eval(BEGIN, 1, key, String(Date.now()), String(MAX_CODE_TRIES)));
    const [state, stored, tries] = Array.isArray(answer) ? answer.map(String) : ['none'];
    if (state === 'expired') return 'expired';
    if (state === 'exhausted') return 'exhausted';
    if (state !== 'ok' || stored === undefined) return 'invalid';
    if (!CodeMac.equal(candidate, stored)) return Number(tries) >= MAX_CODE_TRIES ? 'exhausted' : 'invalid';
    // two right answers at once: only one spends the code
    const spent = await this.run(this.redis.eval(CONSUME, 1, key, stored));
    return Number(spent) === 1 ? 'ok' : 'invalid';
  }

  private key(purpose: CodePurpose, subject: string): string {
    return CacheKeys.oneTimeCode(purpose, codeSubjectKey(subject));
  }

  private run<T>(command: Promise<T>): Promise<T> {
    return redisCall(command, 'code store');
  }
}
