import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { loadConsumerConfig } from './consumer.config';
import { loadEmulatorConfig } from './emulator.config';
import { loadProducerConfig } from './producer.config';

const validProducerEnv = () => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/email_core',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
  MS_CLIENT_ID: 'client',
  MS_CLIENT_SECRET: 'client-secret-value',
  JWT_SECRET: 'x'.repeat(40),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
});

function problemsOf(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError)
      return Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('parses a complete producer environment with defaults filled in', () => {
    const c = loadProducerConfig(validProducerEnv());
    expect(c.port).toBe(3000);
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.redis.nodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
    expect(c.kafka.partitions).toBe(6);
    expect(c.tokenEncryptionKeys[0].key).toHaveLength(32);
    expect(c.microsoft.authority).toBe('https://login.microsoftonline.com/common');
  });

  it.each([
    'DATABASE_URL',
    'KAFKA_BROKERS',
    'REDIS_CLUSTER_NODES',
    'JWT_SECRET',
    'TOKEN_ENCRYPTION_KEYS',
    'MS_CLIENT_ID',
  ])('names a missing %s', (name) => {
    const env: Record<string, string> = validProducerEnv();
    delete env[name];
    expect(problemsOf(() => loadProducerConfig(env))[name]).toMatch(/required/);
  });

  it('treats an empty value as missing', () => {
    expect(
      problemsOf(() => loadProducerConfig({ ...validProducerEnv(), DATABASE_URL: '' })).DATABASE_URL,
    ).toMatch(/required/);
  });

  it.each([
    ['DATABASE_URL', 'mysql://x@y/z', /postgres:\/\//],
    ['KAFKA_BROKERS', 'nohostport', /host:port/],
    ['REDIS_CLUSTER_NODES', '127.0.0.1:99999', /host:port/],
    ['PRODUCER_PORT', 'eighty', /port/],
    ['MS_AUTHORITY', 'http://login.example.com/common', /https/],
    ['JWT_SECRET', 'short', /32/],
    ['TOKEN_ENCRYPTION_KEYS', 'k1:dG9vc2hvcnQ=', /32 bytes/],
  ])('names a malformed %s', (name, value, message) => {
    expect(problemsOf(() => loadProducerConfig({ ...validProducerEnv(), [name]: value }))[name]).toMatch(
      message,
    );
  });

  it('never echoes a secret value in its message', () => {
    const leaked = 'super-secret-but-short';
    try {
      loadProducerConfig({
        ...validProducerEnv(),
        JWT_SECRET: leaked,
        TOKEN_ENCRYPTION_KEYS: `k1:${leaked}`,
      });
    } catch (err) {
      expect((err as Error).message).not.toContain(leaked);
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('validates the consumer and the emulator with their own schemas', () => {
    const { JWT_SECRET: _unused, ...consumerEnv } = validProducerEnv();
    expect(loadConsumerConfig(consumerEnv).groupId).toBe('email-core-workers');
    expect(problemsOf(() => loadEmulatorConfig({})).EMULATOR_DEMO_CLIENT_SECRET).toMatch(/required/);
    expect(loadEmulatorConfig({ EMULATOR_DEMO_CLIENT_SECRET: 'demo-secret' }).port).toBe(8443);
  });
});
