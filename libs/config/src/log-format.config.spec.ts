import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { loadConsumerConfig } from './consumer.config';
import { loadEmulatorConfig } from './emulator.config';
import { loadProducerConfig } from './producer.config';

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/email_core',
  KAFKA_BROKERS: '127.0.0.1:9092',
  REDIS_CLUSTER_NODES: '127.0.0.1:7000',
  MS_CLIENT_ID: 'client',
  MS_CLIENT_SECRET: 'client-secret-value',
  JWT_SECRET: 'x'.repeat(40),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  EMULATOR_DEMO_CLIENT_SECRET: 'demo-secret',
  ...extra,
});

function problem(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.find((p) => p.variable === 'LOG_FORMAT')?.message;
    throw err;
  }
  return undefined;
}

describe('LOG_FORMAT', () => {
  it('defaults to JSON lines in production and pretty text elsewhere, in every app', () => {
    expect(loadConsumerConfig(env({ NODE_ENV: 'production' })).logFormat).toBe('json');
    expect(loadEmulatorConfig(env({ NODE_ENV: 'production' })).logFormat).toBe('json');
    for (const nodeEnv of ['development', 'test']) {
      expect(loadProducerConfig(env({ NODE_ENV: nodeEnv })).logFormat).toBe('pretty');
      expect(loadConsumerConfig(env({ NODE_ENV: nodeEnv })).logFormat).toBe('pretty');
      expect(loadEmulatorConfig(env({ NODE_ENV: nodeEnv })).logFormat).toBe('pretty');
    }
    expect(loadConsumerConfig(env({ LOG_FORMAT: '' })).logFormat).toBe('pretty');
  });

  it('is what it says when set, whatever NODE_ENV', () => {
    expect(loadProducerConfig(env({ LOG_FORMAT: 'json' })).logFormat).toBe('json');
    expect(loadConsumerConfig(env({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).logFormat).toBe(
      'pretty',
    );
    expect(loadEmulatorConfig(env({ LOG_FORMAT: 'json' })).logFormat).toBe('json');
  });

  it('refuses anything else, naming the choices; LOG_LEVEL keeps its names', () => {
    expect(problem(() => loadProducerConfig(env({ LOG_FORMAT: 'text' })))).toBe('must be json or pretty');
    expect(problem(() => loadEmulatorConfig(env({ LOG_FORMAT: 'JSON' })))).toBe('must be json or pretty');
    expect(loadConsumerConfig(env({ LOG_LEVEL: 'verbose' })).logLevel).toBe('verbose');
    expect(() => loadConsumerConfig(env({ LOG_LEVEL: 'info' }))).toThrow(ConfigError);
  });
});
