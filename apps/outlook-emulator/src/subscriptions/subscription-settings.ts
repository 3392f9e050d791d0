import { z } from 'zod';
import { loadConfig } from '@email-core/config';

export const SUBSCRIPTION_SETTINGS = Symbol('SUBSCRIPTION_SETTINGS');

/**
 * How the emulator's subscriptions behave. The defaults are Microsoft's documented figures where there are any
 * (3 s reply window, 2.9 s "slow", 10 s handshake, 100 per POST, 1,000 per mailbox); the rest are tunable so
 * tests can run retries in milliseconds. Microsoft retries a failed delivery for up to 4 hours; the emulator
 * gives up after `maxAttempts` (about 2 minutes with the defaults) and then sends a `missed` lifecycle event.
 */
export interface SubscriptionSettings {
  /** the lifetime cap, minutes (EMULATOR_SUBSCRIPTION_MAX_MINUTES, from the emulator config) */
  maxMinutes: number;
  maxPerMailbox: number;
  /** refuse http:// notification URLs even on loopback */
  strictNotificationUrls: boolean;
  validationTimeoutMs: number;
  /** how long changes for one notification URL are collected before they are POSTed together */
  batchWindowMs: number;
  batchMaxItems: number;
  /** a delivery is aborted (and retried) after this long */
  deliveryTimeoutMs: number;
  /** a 2xx slower than this still counts as slow in the stats */
  slowMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** attempts per POST, the first included */
  maxAttempts: number;
  /** send `reauthorizationRequired` this long before expiry (0: never on its own) */
  reauthorizeBeforeMinutes: number;
}

const count = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const subscriptionEnv = z.object({
  EMULATOR_STRICT_NOTIFICATION_URLS: z
    .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'must be true or false' }) })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  EMULATOR_SUBSCRIPTIONS_PER_MAILBOX: count(1000),
  EMULATOR_VALIDATION_TIMEOUT_MS: count(10000),
  EMULATOR_NOTIFY_BATCH_WINDOW_MS: count(50, 0),
  EMULATOR_NOTIFY_BATCH_MAX: count(100),
  EMULATOR_NOTIFY_TIMEOUT_MS: count(3000),
  EMULATOR_NOTIFY_SLOW_MS: count(2900),
  EMULATOR_NOTIFY_RETRY_BASE_MS: count(1000),
  EMULATOR_NOTIFY_RETRY_MAX_MS: count(60000),
  EMULATOR_NOTIFY_MAX_ATTEMPTS: count(8),
  EMULATOR_REAUTHORIZE_BEFORE_MINUTES: count(0, 0),
});

export function loadSubscriptionSettings(
  maxMinutes: number,
  env: NodeJS.ProcessEnv = process.env,
): SubscriptionSettings {
  const e = loadConfig('outlook-emulator', subscriptionEnv, env);
  return {
    maxMinutes,
    maxPerMailbox: e.EMULATOR_SUBSCRIPTIONS_PER_MAILBOX,
    strictNotificationUrls: e.EMULATOR_STRICT_NOTIFICATION_URLS,
    validationTimeoutMs: e.EMULATOR_VALIDATION_TIMEOUT_MS,
    batchWindowMs: e.EMULATOR_NOTIFY_BATCH_WINDOW_MS,
    batchMaxItems: e.EMULATOR_NOTIFY_BATCH_MAX,
    deliveryTimeoutMs: e.EMULATOR_NOTIFY_TIMEOUT_MS,
    slowMs: e.EMULATOR_NOTIFY_SLOW_MS,
    retryBaseMs: e.EMULATOR_NOTIFY_RETRY_BASE_MS,
    retryMaxMs: e.EMULATOR_NOTIFY_RETRY_MAX_MS,
    maxAttempts: e.EMULATOR_NOTIFY_MAX_ATTEMPTS,
    reauthorizeBeforeMinutes: e.EMULATOR_REAUTHORIZE_BEFORE_MINUTES,
  };
}
