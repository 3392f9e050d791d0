import { z } from 'zod';
import { ConfigError } from './config-error';
import { demoImapEnvShape, toDemoImapConfig, type DemoImapConfig } from './demo-imap.config';
import { encryptionKeys, httpUrl, port, positiveInt, secret } from './fields';
import { imapEnvShape, toImapHostConfig, type ImapHostConfig } from './imap.config';
import { infraEnvShape, toInfraConfig, type InfraConfig } from './infra.config';
import { loadConfig } from './load-config';
import { microsoftEnvShape, toMicrosoftConfig, type MicrosoftConfig } from './microsoft.config';
import { productionProblems } from './production';
import { trustProxy, type TrustProxy } from './trust-proxy';

const producerEnv = z.object({
  ...infraEnvShape,
  ...microsoftEnvShape,
  ...imapEnvShape,
  ...demoImapEnvShape,
  PRODUCER_PORT: port(3000),
  PUBLIC_BASE_URL: httpUrl.default('http://127.0.0.1:3000'),
  CORS_ORIGINS: z
    .string()
    .default('http://127.0.0.1:3000,http://localhost:3000,http://127.0.0.1:5173,http://localhost:5173'),
  DASHBOARD_DIR: z.string().default('apps/dashboard/dist'),
  TRUST_PROXY: trustProxy,
  JWT_SECRET: secret(32, 'a random string used to sign access tokens'),
  TOKEN_ENCRYPTION_KEYS: encryptionKeys,
  WEBHOOK_MAX_BODY_BYTES: positiveInt(1048576),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: positiveInt(120_000),
  WEBHOOK_MAX_ITEMS: positiveInt(1000),
  WEBHOOK_UNKNOWN_IDS_PER_MINUTE: positiveInt(10_000),
  AUTH_REFRESH_RATE_LIMIT_PER_MINUTE: positiveInt(120),
  JSON_BODY_LIMIT_BYTES: positiveInt(102_400),
  COMMANDS_RATE_LIMIT_PER_MINUTE: positiveInt(120),
  COMMANDS_IP_RATE_LIMIT_PER_MINUTE: positiveInt(600),
  UPLOADS_RATE_LIMIT_PER_MINUTE: positiveInt(60),
  COMMAND_BATCHES_RATE_LIMIT_PER_MINUTE: positiveInt(20),
  UPLOAD_CHUNKS_RATE_LIMIT_PER_MINUTE: positiveInt(600),
  RESYNC_RATE_LIMIT_PER_MINUTE: positiveInt(10),
  SIGN_IN_CODE_TTL_SECONDS: positiveInt(600).pipe(z.number().max(3600, 'must be at most 3600 (an hour)')),
  SIGN_IN_CODE_REQUESTS_PER_EMAIL: positiveInt(3),
  SIGN_IN_CODE_REQUESTS_PER_IP: positiveInt(30),
  VERIFY_EMAIL_CODE_TTL_SECONDS: positiveInt(86_400).pipe(
    z.number().max(7 * 86_400, 'must be at most 604800 (a week)'),
  ),
  REALTIME_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (at most 64)')
    .optional(),
  OPS_ADMIN_EMAILS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean),
    )
    // `*` (formerly: every signed-in user) still parses but is ignored, with a warning at boot (OperatorRights);
    // NODE_ENV=production refuses it outright
    .refine((list) => list.every((x) => x === '*' || z.string().email().safeParse(x).success), {
      message: 'a comma-separated list of email addresses',
    }),
  /** the consumers' health ports (`http://host:CONSUMER_PORT`), whose GET /metrics the Ops page's live panel reads */
  OPS_CONSUMER_METRICS_URLS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    )
    .refine((list) => list.every((x) => httpUrl.safeParse(x).success), {
      message: 'a comma-separated list of http(s) URLs (each consumer: http://host:CONSUMER_PORT)',
    }),
});

export interface ProducerConfig extends InfraConfig {
  app: 'producer';
  port: number;
  publicBaseUrl: string;
  corsOrigins: string[];
  dashboardDir: string;
  /** Express's `trust proxy` (trust-proxy.ts): which `X-Forwarded-For` hops name the client; false by default */
  trustProxy: TrustProxy;
  jwtSecret: string;
  tokenEncryptionKeys: Array<{ id: string; key: Buffer }>;
  microsoft: MicrosoftConfig;
  /** `IMAP_ALLOW_PRIVATE_HOSTS`, `IMAP_CA_FILE`: how the IMAP/SMTP adapter may reach users' mail servers */
  imap: ImapHostConfig;
  /**
   * `DEMO_IMAP_*`: the stack's demo IMAP mailbox for the dashboard's "Use the demo mailbox" (development only;
   * null otherwise)
   */
  demoImap: DemoImapConfig | null;
  webhook: {
    /** larger notification POSTs are answered 413 and not read further */
    maxBodyBytes: number;
    /**
     * POSTs per source IP per minute (both webhook URLs together); more are answered 429 with Retry-After.
     * Generous by default: Graph delivers from a few addresses, in bursts.
     */
    ratePerMinute: number;
    /** notification items one POST may hold; more are answered 413 `TOO_MANY_NOTIFICATIONS` before any lookup */
    maxItems: number;
    /**
     * unknown subscription ids one source IP may send per minute (per instance); past it, its POSTs that need a
     * lookup are answered 429 with Retry-After
     */
    unknownIdsPerMinute: number;
  };
  limits: {
    /** `POST /auth/refresh` per source IP per minute */
    refreshPerMinute: number;
    /** the JSON body limit of every route without its own (the commands and the webhook have theirs) */
    jsonBodyBytes: number;
    /** `POST /commands` per signed-in user per minute (the limit is checked before the body is read) */
    commandsPerMinute: number;
    /** `POST /commands` and `POST /uploads` per source IP per minute, whoever is signed in */
    commandsPerIpPerMinute: number;
    /** `POST /uploads` (attachments) per signed-in user per minute */
    uploadsPerMinute: number;
    /** `POST /commands/batches` per signed-in user per minute, besides the commands' own limits (one each) */
    commandBatchesPerMinute: number;
    /** `PUT /uploads/{id}` (chunks of at most 4 MiB) per signed-in user per minute */
    uploadChunksPerMinute: number;
    /** `POST /accounts/:id/resync` per signed-in user per minute */
    resyncPerMinute: number;
  };
  /** one-time codes sent by mail: sign-in by code and address verification */
  codes: {
    /** how long a sign-in code works (10 minutes) */
    signInTtlSeconds: number;
    /** sign-in code requests per address per 15 minutes (3) */
    requestsPerEmail: number;
    /** sign-in code requests per client address per 15 minutes, whatever the addresses (30) */
    requestsPerIp: number;
    /** how long an address-verification code works (a day) */
    verifyEmailTtlSeconds: number;
  };
  realtime: {
    /**
     * Names this instance's own consumer group on the events topic (every API instance reads every event and
     * emits to the sockets it holds). Default: host name and process id.
     */
    instanceId: string | undefined;
  };
  ops: {
    /**
     * lower-cased; a user whose address is listed AND verified is an operator without a grant (none by default).
     * Unverified addresses are never trusted: until verification exists, `npm run ops:grant` is the only way in.
     */
    adminEmails: string[];
    /** the list held `*`: it makes nobody an operator (the producer warns at boot) */
    wildcardIgnored: boolean;
  };
  /** the Ops page's live panel */
  liveMetrics: {
    /**
     * `OPS_CONSUMER_METRICS_URLS`: the consumers' health ports, whose GET /metrics (with METRICS_TOKEN) the panel
     * reads for the sync rate and the provider's 429s; none by default (the panel then says so)
     */
    consumerUrls: string[];
  };
}

export function loadProducerConfig(env: NodeJS.ProcessEnv = process.env): ProducerConfig {
  const e = loadConfig('producer', producerEnv, env);
  // NODE_ENV=production refuses development settings (production.ts), named like any other bad variable
  if (e.NODE_ENV === 'production') {
    const problems = productionProblems(e);
    if (problems.length > 0) throw new ConfigError('producer', problems);
  }
  return {
    ...toInfraConfig(e),
    app: 'producer',
    port: e.PRODUCER_PORT,
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    dashboardDir: e.DASHBOARD_DIR,
    trustProxy: e.TRUST_PROXY,
    jwtSecret: e.JWT_SECRET,
    tokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEYS,
    microsoft: toMicrosoftConfig(e),
    imap: toImapHostConfig(e),
    demoImap: toDemoImapConfig(e),
    webhook: {
      maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
      ratePerMinute: e.WEBHOOK_RATE_LIMIT_PER_MINUTE,
      maxItems: e.WEBHOOK_MAX_ITEMS,
      unknownIdsPerMinute: e.WEBHOOK_UNKNOWN_IDS_PER_MINUTE,
    },
    limits: {
      refreshPerMinute: e.AUTH_REFRESH_RATE_LIMIT_PER_MINUTE,
      jsonBodyBytes: e.JSON_BODY_LIMIT_BYTES,
      commandsPerMinute: e.COMMANDS_RATE_LIMIT_PER_MINUTE,
      commandsPerIpPerMinute: e.COMMANDS_IP_RATE_LIMIT_PER_MINUTE,
      uploadsPerMinute: e.UPLOADS_RATE_LIMIT_PER_MINUTE,
      commandBatchesPerMinute: e.COMMAND_BATCHES_RATE_LIMIT_PER_MINUTE,
      uploadChunksPerMinute: e.UPLOAD_CHUNKS_RATE_LIMIT_PER_MINUTE,
      resyncPerMinute: e.RESYNC_RATE_LIMIT_PER_MINUTE,
    },
    codes: {
      signInTtlSeconds: e.SIGN_IN_CODE_TTL_SECONDS,
      requestsPerEmail: e.SIGN_IN_CODE_REQUESTS_PER_EMAIL,
      requestsPerIp: e.SIGN_IN_CODE_REQUESTS_PER_IP,
      verifyEmailTtlSeconds: e.VERIFY_EMAIL_CODE_TTL_SECONDS,
    },
    realtime: { instanceId: e.REALTIME_INSTANCE_ID },
    ops: {
      adminEmails: e.OPS_ADMIN_EMAILS.filter((x) => x !== '*'),
      wildcardIgnored: e.OPS_ADMIN_EMAILS.includes('*'),
    },
    liveMetrics: { consumerUrls: e.OPS_CONSUMER_METRICS_URLS },
  };
}
