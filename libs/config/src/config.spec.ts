import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  it('MS_CA_FILE: read at boot into microsoft.extraCa; a missing or certificate-less file stops the app', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-ca-file-'));
    try {
      expect(loadProducerConfig(validProducerEnv()).microsoft.extraCa).toBeUndefined();
      const pem = execFileSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'k.pem'),
        '-subj',
        '/CN=Test CA',
        '-days',
        '1',
      ]).toString();
      const file = path.join(dir, 'ca.pem');
      fs.writeFileSync(file, `# a comment\n${pem}`);
      const c = loadConsumerConfig({ ...validProducerEnv(), MS_CA_FILE: file });
      expect(c.microsoft.extraCa).toEqual({ file, pem });

      const missing = path.join(dir, 'missing.pem');
      expect(problemsOf(() => loadProducerConfig({ ...validProducerEnv(), MS_CA_FILE: missing }))).toEqual({
        MS_CA_FILE: `cannot read ${missing} (ENOENT)`,
      });
      fs.writeFileSync(path.join(dir, 'empty.pem'), 'not a certificate');
      expect(
        problemsOf(() =>
          loadProducerConfig({ ...validProducerEnv(), MS_CA_FILE: path.join(dir, 'empty.pem') }),
        ),
      ).toEqual({ MS_CA_FILE: expect.stringContaining('holds no readable PEM certificate') as string });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

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
    expect(c.database.preparedStatements).toBe(true);
  });

  it('DATABASE_PREPARED_STATEMENTS: on by default, off for a pooler that does not keep prepared statements', () => {
    const off = loadProducerConfig({ ...validProducerEnv(), DATABASE_PREPARED_STATEMENTS: 'false' });
    expect(off.database.preparedStatements).toBe(false);
    expect(
      problemsOf(() => loadProducerConfig({ ...validProducerEnv(), DATABASE_PREPARED_STATEMENTS: 'maybe' }))
        .DATABASE_PREPARED_STATEMENTS,
    ).toBeDefined();
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
