import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { loadConsumerConfig } from './consumer.config';

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/email_core',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_CLUSTER_NODES: '127.0.0.1:7000',
  MS_CLIENT_ID: 'client',
  MS_CLIENT_SECRET: 'client-secret-value',
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ...extra,
});

const problem = (extra: Record<string, string>, variable: string): string | undefined => {
  try {
    loadConsumerConfig(env(extra));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.find((p) => p.variable === variable)?.message;
    throw err;
  }
  return undefined;
};

describe('consumer configuration: sync and retry settings', () => {
  it('has defaults for the sync and the retry policy', () => {
    const c = loadConsumerConfig(env());
    expect(c.sync).toEqual({
      pageSize: 500,
      folderParallelism: 4,
      pageWriters: 2,
      firstScreenSize: 100,
      progressEveryPages: 5,
      progressMinIntervalMs: 500,
      concurrentPartitions: 3,
    });
    expect(c.consumers).toEqual({
      sessionTimeoutMs: 10000,
      retry: { maxAttempts: 5, backoffMs: [5000, 30000, 120000, 600000] },
    });
  });

  it('reads them from the environment', () => {
    const c = loadConsumerConfig(
      env({
        SYNC_PAGE_SIZE: '50',
        SYNC_PROGRESS_MIN_INTERVAL_MS: '250',
        KAFKA_RETRY_BACKOFF_MS: '100, 200',
        KAFKA_RETRY_MAX_ATTEMPTS: '2',
      }),
    );
    expect(c.sync.pageSize).toBe(50);
    expect(c.sync.progressMinIntervalMs).toBe(250);
    expect(c.consumers.retry).toEqual({ maxAttempts: 2, backoffMs: [100, 200] });
  });

  it.each([
    ['SYNC_PAGE_SIZE', '5000', /at most 1000/],
    ['SYNC_FOLDER_PARALLELISM', '0', /greater than 0/],
    ['SYNC_PROGRESS_MIN_INTERVAL_MS', '0', /greater than 0/],
    ['KAFKA_RETRY_BACKOFF_MS', '1s,2s', /comma-separated list of whole milliseconds/],
    ['KAFKA_SESSION_TIMEOUT_MS', '1000', /at least 6000/],
  ])('names a bad %s', (name, value, message) => {
    expect(problem({ [name]: value }, name)).toMatch(message);
  });
});

describe('consumer configuration: live changes', () => {
  it("runs 32 mailboxes' rounds at once by default, NOTIFY_CONCURRENT_ROUNDS otherwise", () => {
    expect(loadConsumerConfig(env()).notifications.concurrentRounds).toBe(32);
    expect(loadConsumerConfig(env({ NOTIFY_CONCURRENT_ROUNDS: '64' })).notifications.concurrentRounds).toBe(
      64,
    );
    expect(problem({ NOTIFY_CONCURRENT_ROUNDS: '0' }, 'NOTIFY_CONCURRENT_ROUNDS')).toMatch(/greater than 0/);
    expect(problem({ NOTIFY_CONCURRENT_ROUNDS: '5000' }, 'NOTIFY_CONCURRENT_ROUNDS')).toMatch(/at most 1000/);
  });
});

describe('consumer configuration: reconciliation', () => {
  it('reconciles every 15 minutes by default', () => {
    expect(loadConsumerConfig(env()).reconcile).toEqual({ intervalMs: 900_000 });
  });

  it('reads RECONCILE_INTERVAL_SECONDS, 0 turning it off', () => {
    expect(loadConsumerConfig(env({ RECONCILE_INTERVAL_SECONDS: '5' })).reconcile.intervalMs).toBe(5000);
    expect(loadConsumerConfig(env({ RECONCILE_INTERVAL_SECONDS: '0' })).reconcile.intervalMs).toBe(0);
  });

  it.each([
    ['-1', /0 \(off\) or a positive number/],
    ['1.5', /whole number/],
    ['soon', /must be a number/],
    ['999999999', /at most 604800/],
  ])('names a bad RECONCILE_INTERVAL_SECONDS (%s)', (value, message) => {
    expect(problem({ RECONCILE_INTERVAL_SECONDS: value }, 'RECONCILE_INTERVAL_SECONDS')).toMatch(message);
  });
});

describe('consumer configuration: the IMAP watcher', () => {
  it('keeps at most 500 IDLE connections and polls every 60 s by default', () => {
    expect(loadConsumerConfig(env()).imapIdle).toEqual({
      enabled: true,
      maxConnections: 500,
      statusPollMs: 60_000,
    });
  });

  it('reads IMAP_MAX_CONNECTIONS (0: poll every account) and IMAP_STATUS_POLL_SECONDS', () => {
    const config = loadConsumerConfig(
      env({ IMAP_IDLE_ENABLED: 'false', IMAP_MAX_CONNECTIONS: '0', IMAP_STATUS_POLL_SECONDS: '15' }),
    );
    expect(config.imapIdle).toEqual({ enabled: false, maxConnections: 0, statusPollMs: 15_000 });
  });

  it.each([
    ['IMAP_MAX_CONNECTIONS', '-1', /0 \(poll every account\) or more/],
    ['IMAP_MAX_CONNECTIONS', 'many', /must be a number/],
    ['IMAP_MAX_CONNECTIONS', '2.5', /whole number/],
    ['IMAP_STATUS_POLL_SECONDS', '1', /at least 5/],
    ['IMAP_STATUS_POLL_SECONDS', '7200', /at most 3600/],
    ['IMAP_IDLE_ENABLED', 'yes', /true or false/],
  ])('names a bad %s (%s)', (name, value, message) => {
    expect(problem({ [name]: value }, name)).toMatch(message);
  });
});
