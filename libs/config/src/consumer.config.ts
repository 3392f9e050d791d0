import { z } from 'zod';
import { booleanFlag, encryptionKeys, httpUrl, port, positiveInt } from './fields';
import { imapEnvShape, toImapHostConfig, type ImapHostConfig } from './imap.config';
import { infraEnvShape, toInfraConfig, type InfraConfig } from './infra.config';
import { loadConfig } from './load-config';
import { mailEnvShape, toMailConfig, type MailConfig } from './mail.config';
import { microsoftEnvShape, toMicrosoftConfig, type MicrosoftConfig } from './microsoft.config';

/** `1000,5000,30000`: the wait before each retry, in ms; the last one repeats. */
const backoffList = z
  .string()
  .default('5000,30000,120000,600000')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map(Number),
  )
  .refine((list) => list.length > 0 && list.every((n) => Number.isInteger(n) && n >= 0), {
    message: 'must be a comma-separated list of whole milliseconds, e.g. 5000,30000,120000',
  });

const consumerEnv = z.object({
  ...infraEnvShape,
  ...microsoftEnvShape,
  ...mailEnvShape,
  ...imapEnvShape,
  CONSUMER_PORT: port(3001),
  KAFKA_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore')
    .default('email-core-workers'),
  KAFKA_SESSION_TIMEOUT_MS: positiveInt(10000).pipe(
    z.number().min(6000, 'must be at least 6000 (the broker minimum)'),
  ),
  KAFKA_RETRY_MAX_ATTEMPTS: positiveInt(5),
  KAFKA_RETRY_BACKOFF_MS: backoffList,
  GRAPH_MAX_CONCURRENCY_PER_MAILBOX: positiveInt(4),
  SYNC_PAGE_SIZE: positiveInt(500).pipe(z.number().max(1000, 'must be at most 1000')),
  SYNC_FOLDER_PARALLELISM: positiveInt(4),
  SYNC_PAGE_WRITERS: positiveInt(2).pipe(z.number().max(8, 'must be at most 8')),
  SYNC_FIRST_SCREEN_SIZE: z.coerce
    .number({ invalid_type_error: 'must be a number of messages (0 turns it off)' })
    .int()
    .min(0)
    .max(1000, 'must be at most 1000')
    .default(100),
  SYNC_PROGRESS_EVERY_PAGES: positiveInt(5),
  SYNC_PROGRESS_MIN_INTERVAL_MS: positiveInt(500),
  SYNC_CONCURRENT_PARTITIONS: positiveInt(3),
  TOKEN_ENCRYPTION_KEYS: encryptionKeys,
  PUBLIC_BASE_URL: httpUrl.default('http://127.0.0.1:3000'),
  SUBSCRIPTION_LIFETIME_MINUTES: positiveInt(4200),
  SUBSCRIPTION_RENEW_BEFORE_MINUTES: positiveInt(720),
  SUBSCRIPTION_CHECK_INTERVAL_MS: positiveInt(60000),
  NOTIFY_CONCURRENT_PARTITIONS: positiveInt(6),
  NOTIFY_MAX_BATCH_WAIT_MS: positiveInt(20),
  NOTIFY_CONCURRENT_ROUNDS: positiveInt(32).pipe(z.number().max(1000, 'must be at most 1000')),
  CHANGES_RETENTION_HOURS: positiveInt(72),
  /** seconds between reconciliation rounds (every folder's delta of every synced account); 0 turns it off */
  RECONCILE_INTERVAL_SECONDS: z.coerce
    .number({ invalid_type_error: 'must be a number of seconds (0 turns reconciliation off)' })
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 (off) or a positive number of seconds')
    .max(7 * 24 * 3600, 'must be at most 604800 (a week)')
    .default(900),
  /** false: no IMAP watcher in this process (the reconciliation alone keeps IMAP mailboxes converged) */
  IMAP_IDLE_ENABLED: booleanFlag(true),
  /** IMAP IDLE connections this process keeps at most; accounts beyond it are polled (0: poll every account) */
  IMAP_MAX_CONNECTIONS: z.coerce
    .number({ invalid_type_error: 'must be a number of connections' })
    .int('must be a whole number of connections')
    .min(0, 'must be 0 (poll every account) or more')
    .max(100_000, 'must be at most 100000')
    .default(500),
  /** seconds between STATUS polls of an IMAP account's folders (the ones IDLE does not watch; every folder beyond the budget) */
  IMAP_STATUS_POLL_SECONDS: z.coerce
    .number({ invalid_type_error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(5, 'must be at least 5 seconds')
    .max(3600, 'must be at most 3600 (an hour)')
    .default(60),
});

export interface ConsumerConfig extends InfraConfig {
  app: 'consumer';
  port: number;
  groupId: string;
  graphMaxConcurrencyPerMailbox: number;
  tokenEncryptionKeys: Array<{ id: string; key: Buffer }>;
  microsoft: MicrosoftConfig;
  /** `IMAP_ALLOW_PRIVATE_HOSTS`, `IMAP_CA_FILE`: how the IMAP/SMTP adapter may reach users' mail servers */
  imap: ImapHostConfig;
  /** the mailer's SMTP submission and sender */
  mail: MailConfig;
  /** consumer-group behaviour shared by every worker of this process */
  consumers: {
    sessionTimeoutMs: number;
    retry: { maxAttempts: number; backoffMs: number[] };
  };
  sync: {
    /** `Prefer: odata.maxpagesize` of each delta page */
    pageSize: number;
    /** folders of one mailbox synced at once (the Graph client also caps requests per mailbox) */
    folderParallelism: number;
    /** pages of one folder written at once during a first sync, each on its own connection, committed in order */
    pageWriters: number;
    /** the Inbox's newest messages a first sync writes before anything else (0: off) */
    firstScreenSize: number;
    /** a `sync.progress` event after this many committed pages since the last one... */
    progressEveryPages: number;
    /** ...or after a page committed at least this many ms after the last one (small mailboxes report too) */
    progressMinIntervalMs: number;
    /** sync-request partitions (so mailboxes) this process works on at once */
    concurrentPartitions: number;
  };
  subscriptions: {
    /** `PUBLIC_BASE_URL`: where Graph reaches the producer (the ngrok URL against real Microsoft) */
    publicBaseUrl: string;
    /** `${publicBaseUrl}/api/v1/graph/notifications` */
    notificationUrl: string;
    /** `${publicBaseUrl}/api/v1/graph/lifecycle` */
    lifecycleUrl: string;
    /** asked-for lifetime of a subscription (Graph caps mail subscriptions at 4230 minutes; we ask for less) */
    lifetimeMinutes: number;
    /** renew a subscription once it expires within this many minutes */
    renewBeforeMinutes: number;
    /** how often each worker looks for subscriptions to renew and synced accounts without one */
    checkIntervalMs: number;
  };
  notifications: {
    /** notification partitions (so mailboxes) this process works on at once */
    concurrentPartitions: number;
    /** kafkajs `maxWaitTimeInMs` of the notifications consumer: how long a fetch waits to fill a batch */
    maxBatchWaitMs: number;
    /** mailboxes whose live-change rounds run at once in this process, over all of its pokes partitions */
    concurrentRounds: number;
    /** how long the change log keeps changes for reconnecting clients */
    changesRetentionHours: number;
  };
  /** the IMAP watcher (IDLE on INBOX, STATUS polls of the other folders; polls only beyond the budget) */
  imapIdle: {
    /** `IMAP_IDLE_ENABLED` */
    enabled: boolean;
    /** `IMAP_MAX_CONNECTIONS`: IDLE connections this process keeps at most */
    maxConnections: number;
    /** `IMAP_STATUS_POLL_SECONDS` in ms */
    statusPollMs: number;
  };
  reconcile: {
    /**
     * every this many ms, one worker process (a shared claim) asks each synced account for a delta round over all
     * of its folders from their stored deltaLinks, catching changes whose notifications were lost; 0: never
     */
    intervalMs: number;
  };
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const e = loadConfig('consumer', consumerEnv, env);
  return {
    ...toInfraConfig(e),
    app: 'consumer',
    port: e.CONSUMER_PORT,
    groupId: e.KAFKA_GROUP_ID,
    graphMaxConcurrencyPerMailbox: e.GRAPH_MAX_CONCURRENCY_PER_MAILBOX,
    tokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEYS,
    microsoft: toMicrosoftConfig(e),
    imap: toImapHostConfig(e),
    mail: toMailConfig(e),
    consumers: {
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      retry: { maxAttempts: e.KAFKA_RETRY_MAX_ATTEMPTS, backoffMs: e.KAFKA_RETRY_BACKOFF_MS },
    },
    sync: {
      pageSize: e.SYNC_PAGE_SIZE,
      folderParallelism: e.SYNC_FOLDER_PARALLELISM,
      pageWriters: e.SYNC_PAGE_WRITERS,
      firstScreenSize: e.SYNC_FIRST_SCREEN_SIZE,
      progressEveryPages: e.SYNC_PROGRESS_EVERY_PAGES,
      progressMinIntervalMs: e.SYNC_PROGRESS_MIN_INTERVAL_MS,
      concurrentPartitions: e.SYNC_CONCURRENT_PARTITIONS,
    },
    subscriptions: {
      publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      notificationUrl: `${e.PUBLIC_BASE_URL.replace(/\/+$/, '')}/api/v1/graph/notifications`,
      lifecycleUrl: `${e.PUBLIC_BASE_URL.replace(/\/+$/, '')}/api/v1/graph/lifecycle`,
      lifetimeMinutes: e.SUBSCRIPTION_LIFETIME_MINUTES,
      renewBeforeMinutes: e.SUBSCRIPTION_RENEW_BEFORE_MINUTES,
      checkIntervalMs: e.SUBSCRIPTION_CHECK_INTERVAL_MS,
    },
    notifications: {
      concurrentPartitions: e.NOTIFY_CONCURRENT_PARTITIONS,
      maxBatchWaitMs: e.NOTIFY_MAX_BATCH_WAIT_MS,
      concurrentRounds: e.NOTIFY_CONCURRENT_ROUNDS,
      changesRetentionHours: e.CHANGES_RETENTION_HOURS,
    },
    imapIdle: {
      enabled: e.IMAP_IDLE_ENABLED,
      maxConnections: e.IMAP_MAX_CONNECTIONS,
      statusPollMs: e.IMAP_STATUS_POLL_SECONDS * 1000,
    },
    reconcile: { intervalMs: e.RECONCILE_INTERVAL_SECONDS * 1000 },
  };
}
