import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import { loadProducerConfig } from './producer.config';
import { productionProblems } from './production';

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
    expect(loadProducerConfig(env()).ops).toEqual({ adminEmails: [], wildcardIgnored: false });
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: '' })).ops).toEqual({
      adminEmails: [],
      wildcardIgnored: false,
    });
  });

  it('lists lower-cased, trimmed addresses', () => {
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: ' Ops@Example.com, b@example.org ,' })).ops).toEqual({
      adminEmails: ['ops@example.com', 'b@example.org'],
      wildcardIgnored: false,
    });
  });

  it('ignores * (it no longer lets every signed-in user in: operators are granted one by one)', () => {
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: '*' })).ops).toEqual({
      adminEmails: [],
      wildcardIgnored: true,
    });
    expect(loadProducerConfig(env({ OPS_ADMIN_EMAILS: 'ops@example.com, *' })).ops).toEqual({
      adminEmails: ['ops@example.com'],
      wildcardIgnored: true,
    });
  });

  it('refuses an entry that is not an address', () => {
    try {
      loadProducerConfig(env({ OPS_ADMIN_EMAILS: 'ops@example.com,not-an-address' }));
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        { variable: 'OPS_ADMIN_EMAILS', message: expect.stringMatching(/email addresses/) as unknown },
      ]);
    }
  });
});

describe('OPS_CONSUMER_METRICS_URLS (the Ops live panel)', () => {
  it('none by default; a comma-separated list of consumer health ports, trimmed, trailing slashes dropped', () => {
    expect(loadProducerConfig(env()).liveMetrics).toEqual({ consumerUrls: [] });
    expect(
      loadProducerConfig(
        env({ OPS_CONSUMER_METRICS_URLS: ' http://127.0.0.1:3001/, https://consumer-2.internal:3001 ,' }),
      ).liveMetrics,
    ).toEqual({ consumerUrls: ['http://127.0.0.1:3001', 'https://consumer-2.internal:3001'] });
  });

  it('refuses an entry that is not an http(s) URL', () => {
    for (const bad of ['127.0.0.1:3001', 'ftp://consumer:3001', 'http://ok:3001,nope']) {
      expect(() => loadProducerConfig(env({ OPS_CONSUMER_METRICS_URLS: bad }))).toThrow(
        /OPS_CONSUMER_METRICS_URLS/,
      );
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

  it('the webhook takes at most 1,000 items a POST and 10,000 unknown subscription ids a minute per address', () => {
    expect(loadProducerConfig(env()).webhook).toMatchObject({ maxItems: 1000, unknownIdsPerMinute: 10_000 });
    const config = loadProducerConfig(
      env({ WEBHOOK_MAX_ITEMS: '50', WEBHOOK_UNKNOWN_IDS_PER_MINUTE: '200' }),
    );
    expect(config.webhook).toMatchObject({ maxItems: 50, unknownIdsPerMinute: 200 });
    expect(() => loadProducerConfig(env({ WEBHOOK_MAX_ITEMS: '0' }))).toThrow(ConfigError);
    expect(() => loadProducerConfig(env({ WEBHOOK_UNKNOWN_IDS_PER_MINUTE: 'many' }))).toThrow(ConfigError);
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => loadProducerConfig(env({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' }))).toThrow(ConfigError);
    expect(() => loadProducerConfig(env({ JSON_BODY_LIMIT_BYTES: '1.5' }))).toThrow(ConfigError);
  });
});

describe('TRUST_PROXY', () => {
  const trust = (value?: string) =>
    loadProducerConfig(env(value === undefined ? {} : { TRUST_PROXY: value })).trustProxy;

  it('is false by default (X-Forwarded-For ignored), and for false or 0', () => {
    expect(trust()).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('0')).toBe(false);
  });

  it("takes Express's hop count, or proxy addresses, CIDR ranges and keywords", () => {
    expect(trust('1')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(trust(' 10.0.0.0/8, loopback ,fd00::/8, ::1 ')).toEqual([
      '10.0.0.0/8',
      'loopback',
      'fd00::/8',
      '::1',
    ]);
    expect(trust('uniquelocal,linklocal')).toEqual(['uniquelocal', 'linklocal']);
  });

  it.each(['true', 'yes', '10.0.0.0/33', '300.1.1.1', '10.0.0.1/8/1', 'example.com', '-1', ','])(
    'refuses %s, naming TRUST_PROXY',
    (value) => {
      try {
        loadProducerConfig(env({ TRUST_PROXY: value }));
        throw new Error('expected a ConfigError');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems.map((p) => p.variable)).toEqual(['TRUST_PROXY']);
      }
    },
  );
});

describe('NODE_ENV=production', () => {
  /** a production setup that passes every check */
  const prod = (extra: Record<string, string> = {}): Record<string, string> =>
    env({
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://mail.example.com',
      CORS_ORIGINS: 'https://mail.example.com',
      JWT_SECRET: randomBytes(48).toString('base64url'),
      ...extra,
    });
  const problemsOf = (e: Record<string, string>): Record<string, string> => {
    try {
      loadProducerConfig(e);
    } catch (err) {
      if (err instanceof ConfigError)
        return Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
      throw err;
    }
    return {};
  };

  it('accepts an https setup with Microsoft, random secrets and no wildcard', () => {
    const config = loadProducerConfig(prod());
    expect(config.nodeEnv).toBe('production');
    expect(config.publicBaseUrl).toBe('https://mail.example.com');
  });

  it('the defaults that suit development are refused, each named: the http:// base URL and the dev CORS origins', () => {
    const { PUBLIC_BASE_URL: _url, CORS_ORIGINS: _cors, ...rest } = prod();
    const problems = problemsOf(rest);
    expect(Object.keys(problems).sort()).toEqual(['CORS_ORIGINS', 'PUBLIC_BASE_URL']);
    expect(problems.PUBLIC_BASE_URL).toMatch(/https/);
    expect(problems.CORS_ORIGINS).toMatch(/development origins/);
    // development is unchanged
    expect(() => loadProducerConfig(env())).not.toThrow();
  });

  it.each([
    ['PUBLIC_BASE_URL', 'http://mail.example.com'],
    ['PUBLIC_BASE_URL', 'https://localhost:3000'],
    ['CORS_ORIGINS', 'https://mail.example.com,http://mail.example.com'],
    ['CORS_ORIGINS', 'https://localhost:5173'],
    ['CORS_ORIGINS', 'https://127.0.0.1:3000'],
    ['CORS_ORIGINS', '*'],
    ['MS_AUTHORITY', 'https://localhost:8443/common'],
    ['MS_AUTHORITY', 'https://127.0.0.1:8443/common'],
    ['MS_GRAPH_BASE_URL', 'https://localhost:8443'],
    ['MS_CLIENT_ID', 'email-core-dev'],
    ['JWT_SECRET', 'x'.repeat(40)],
    ['JWT_SECRET', 'abab'.repeat(12)],
    ['TOKEN_ENCRYPTION_KEYS', `k1:${Buffer.alloc(32).toString('base64')}`],
    [
      'TOKEN_ENCRYPTION_KEYS',
      `k1:${randomBytes(32).toString('base64')},k0:${Buffer.alloc(32, 7).toString('base64')}`,
    ],
  ])('refuses %s=%s and names it, without the value', (variable, value) => {
    const problems = problemsOf(prod({ [variable]: value }));
    expect(Object.keys(problems)).toEqual([variable]);
    if (variable === 'JWT_SECRET' || variable === 'TOKEN_ENCRYPTION_KEYS')
      expect(problems[variable]).not.toContain(value);
  });

  it('refuses a JWT_SECRET under 32 bytes (the schema already wants 32 characters everywhere)', () => {
    expect(Object.keys(problemsOf(prod({ JWT_SECRET: randomBytes(8).toString('hex') })))).toEqual([
      'JWT_SECRET',
    ]);
  });

  it('refuses a wildcard operator list', () => {
    expect(Object.keys(problemsOf(prod({ OPS_ADMIN_EMAILS: '*' })))).toEqual(['OPS_ADMIN_EMAILS']);
  });

  it('refuses the secrets `npm start` generated on this machine (.stack/dev-secrets.env)', () => {
    const dev = {
      JWT_SECRET: randomBytes(48).toString('base64url'),
      TOKEN_ENCRYPTION_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
      EMULATOR_DEMO_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    };
    const base = {
      PUBLIC_BASE_URL: 'https://mail.example.com',
      CORS_ORIGINS: 'https://mail.example.com',
      MS_AUTHORITY: 'https://login.microsoftonline.com/common',
      MS_GRAPH_BASE_URL: 'https://graph.microsoft.com',
      MS_CLIENT_ID: 'client',
      MS_CLIENT_SECRET: 'a real client secret',
      JWT_SECRET: randomBytes(48).toString('base64url'),
      TOKEN_ENCRYPTION_KEYS: [{ id: 'k1', key: randomBytes(32) }],
      OPS_ADMIN_EMAILS: [],
    };
    expect(productionProblems(base, dev)).toEqual([]);
    const reused = productionProblems(
      {
        ...base,
        JWT_SECRET: dev.JWT_SECRET,
        MS_CLIENT_SECRET: dev.EMULATOR_DEMO_CLIENT_SECRET,
        TOKEN_ENCRYPTION_KEYS: [
          { id: 'k1', key: randomBytes(32) },
          { id: 'prod', key: Buffer.from(dev.TOKEN_ENCRYPTION_KEYS.slice(5), 'base64') },
        ],
      },
      dev,
    );
    expect(reused.map((p) => p.variable).sort()).toEqual([
      'JWT_SECRET',
      'MS_CLIENT_SECRET',
      'TOKEN_ENCRYPTION_KEYS',
    ]);
    for (const p of reused) expect(p.message).not.toContain(dev.JWT_SECRET);
  });

  it('refuses IMAP_ALLOW_PRIVATE_HOSTS in production; reads it and IMAP_CA_FILE otherwise', () => {
    const base = {
      PUBLIC_BASE_URL: 'https://mail.example.com',
      CORS_ORIGINS: 'https://mail.example.com',
      MS_AUTHORITY: 'https://login.microsoftonline.com/common',
      MS_GRAPH_BASE_URL: 'https://graph.microsoft.com',
      MS_CLIENT_ID: 'client',
      MS_CLIENT_SECRET: 'a real client secret',
      JWT_SECRET: randomBytes(48).toString('base64url'),
      TOKEN_ENCRYPTION_KEYS: [{ id: 'k1', key: randomBytes(32) }],
      OPS_ADMIN_EMAILS: [],
    };
    expect(productionProblems({ ...base, IMAP_ALLOW_PRIVATE_HOSTS: false }, {})).toEqual([]);
    expect(
      productionProblems({ ...base, IMAP_ALLOW_PRIVATE_HOSTS: true }, {}).map((p) => p.variable),
    ).toEqual(['IMAP_ALLOW_PRIVATE_HOSTS']);
  });
});
