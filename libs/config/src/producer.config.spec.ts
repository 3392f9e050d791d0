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
