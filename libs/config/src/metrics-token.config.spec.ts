import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { loadConsumerConfig } from './consumer.config';
import { loadProducerConfig } from './producer.config';

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/email_core',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_CLUSTER_NODES: '127.0.0.1:7000',
  MS_CLIENT_ID: 'client',
  MS_CLIENT_SECRET: 'client-secret-value',
  JWT_SECRET: 'x'.repeat(40),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ...extra,
});

function problem(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.find((p) => p.variable === 'METRICS_TOKEN')?.message;
    throw err;
  }
  return undefined;
}

describe('METRICS_TOKEN', () => {
  it('is optional: unset (or empty) leaves /metrics open, in both apps', () => {
    expect(loadProducerConfig(env()).metricsToken).toBeUndefined();
    expect(loadConsumerConfig(env({ METRICS_TOKEN: '' })).metricsToken).toBeUndefined();
  });

  it('is read by both apps when set', () => {
    const token = randomBytes(24).toString('hex');
    expect(loadProducerConfig(env({ METRICS_TOKEN: token })).metricsToken).toBe(token);
    expect(loadConsumerConfig(env({ METRICS_TOKEN: token })).metricsToken).toBe(token);
  });

  it('refuses a short token or one that cannot travel in a header, without echoing it', () => {
    expect(problem(() => loadProducerConfig(env({ METRICS_TOKEN: 'short' })))).toMatch(/at least 16/);
    const spaced = 'has spaces in it, 1234567890';
    const message = problem(() => loadConsumerConfig(env({ METRICS_TOKEN: spaced })));
    expect(message).toMatch(/printable ASCII without spaces/);
    expect(message).not.toContain(spaced);
  });
});
