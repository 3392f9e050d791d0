import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
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

describe('OPS_ADMIN_EMAILS', () => {
  it('is nobody by default, and when empty', () => {
    expect(loadProducerConfig(env()).ops).toEqual({ everyone: false, adminEmails: [] });
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: '' })).ops).toEqual({
      everyone: false,
      adminEmails: [],
    });
  });

  it('lists lower-cased, trimmed addresses', () => {
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: ' Ops@Example.com, b@example.org ,' })).ops).toEqual({
      everyone: false,
      adminEmails: ['ops@example.com', 'b@example.org'],
    });
  });

  it('* lets every signed-in user in', () => {
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: '*' })).ops).toEqual({
      everyone: true,
      adminEmails: [],
    });
  });

  it('refuses an entry that is not an address', () => {
    try {
      loadProducerConfig(env({ OPS_ADMIN_EMAILS: 'ops@example.com,not-an-address' }));
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        { variable: 'OPS_ADMIN_EMAILS', message: expect.stringMatching(/email addresses, or \*/) as unknown },
      ]);
    }
  });
});

describe('security limits', () => {
  it('defaults: 120,000 webhook POSTs and 120 refreshes per IP per minute, 100 kB JSON bodies', () => {
    const config = loadProducerConfig(env());
    expect(config.webhook.ratePerMinute).toBe(120_000);
    expect(config.limits).toMatchObject({ refreshPerMinute: 120, jsonBodyBytes: 102_400 });
  });

  it('per-user limits on commands, uploads and resyncs, and a per-IP one on commands and uploads', () => {
    expect(loadProducerConfig(env()).limits).toMatchObject({
      commandsPerMinute: 120,
      commandsPerIpPerMinute: 600,
      uploadsPerMinute: 60,
      resyncPerMinute: 10,
    });
    const config = loadProducerConfig(
      env({
        COMMANDS_RATE_LIMIT_PER_MINUTE: '3',
        COMMANDS_IP_RATE_LIMIT_PER_MINUTE: '7',
        UPLOADS_RATE_LIMIT_PER_MINUTE: '2',
        RESYNC_RATE_LIMIT_PER_MINUTE: '1',
      }),
    );
    expect(config.limits).toMatchObject({
      commandsPerMinute: 3,
      commandsPerIpPerMinute: 7,
      uploadsPerMinute: 2,
      resyncPerMinute: 1,
    });
  });

  it('reads them from the environment', () => {
    const config = loadProducerConfig(
      env({
        WEBHOOK_RATE_LIMIT_PER_MINUTE: '30',
        AUTH_REFRESH_RATE_LIMIT_PER_MINUTE: '5',
        JSON_BODY_LIMIT_BYTES: '2048',
      }),
    );
    expect(config.webhook.ratePerMinute).toBe(30);
    expect(config.limits).toMatchObject({ refreshPerMinute: 5, jsonBodyBytes: 2048 });
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => loadProducerConfig(env({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' }))).toThrow(ConfigError);
    expect(() => loadProducerConfig(env({ JSON_BODY_LIMIT_BYTES: '1.5' }))).toThrow(ConfigError);
  });
});
