import * as fs from 'node:fs';
import { composeDown } from './docker';
import { checkKafka, DEFAULT_KAFKA_BROKERS, ensureKafka, stopKafka } from './kafka';
import { checkPostgres, checkReplica, DEFAULT_DATABASE_URL, ensurePostgres, stopPostgres } from './postgres';
import {
  checkMailServer,
  DEFAULT_MAIL_ENDPOINTS,
  ensureMailServer,
  MAIL_ENV_VARS,
  parseMailEndpoint,
  stopMailServer,
} from './mail-server';
import { errorMessage, tcpAnswers, type Log } from './process';
import { provisionProject } from './provision';
import {
  checkRedisCluster,
  DEFAULT_REDIS_NODES,
  ensureRedisCluster,
  stopRedisCluster,
} from './redis-cluster';
import { StackUnavailableError, type ServiceUp } from './service';
import {
  ENDPOINTS_FILE,
  parseHostPorts,
  readEndpointsFile,
  readState,
  redactUrl,
  rel,
  withStackLock,
  writeEndpointsFile,
  writeState,
  type StackState,
} from './state';
import type { HostPort, MailEndpoints, StackEndpoints, StackSource } from './types';

export type { HostPort, MailEndpoints, StackEndpoints, StackSource } from './types';
export {
  checkMailServer,
  DEFAULT_MAIL_ENDPOINTS,
  devMailPassword,
  ensureMailServer,
  MAIL_ENV_VARS,
  mailCaFile,
  SYSTEM_MAIL_LOGIN,
  systemMailSmtpEnv,
  imapAdapterEnv,
} from './mail-server';
export {
  DEMO_FOLDERS,
  DEMO_IMAP_ADDRESS,
  DEMO_MESSAGE_COUNT,
  bulkMailboxFolders,
  demoMessages,
  fillDemoMailbox,
  fillMailbox,
  type DemoFolder,
  type DemoFolderKind,
  type DemoMailboxOptions,
  type FillMailboxOptions,
  type DemoMailboxResult,
  type DemoMailboxTarget,
} from './demo-mailbox';
export { StackUnavailableError } from './service';
export { readEndpointsFile };

export interface StackOptions {
  /** progress and summary lines; defaults to console.log */
  log?: (msg: string) => void;
}

export type ServiceName = 'postgres' | 'kafka' | 'redis' | 'mail';

export interface ServiceStatus {
  /** `replica`: the hot standby of `postgres` (DATABASE_READ_URL) */
  service: ServiceName | 'replica';
  source: StackSource | 'unknown';
  endpoint: string;
  healthy: boolean;
  detail: string;
}

export interface StackStatus {
  services: ServiceStatus[];
  /** true when every service passed its check */
  healthy: boolean;
}

export interface StopReport {
  /** what this checkout had started and has now stopped */
  stopped: string[];
  /** services that are not ours and were left alone */
  left: string[];
}

const nodesText = (nodes: HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');
const mailText = (m: MailEndpoints): string =>
  `smtp ${m.smtp} submission ${m.submission} imap ${m.imap} imaps ${m.imaps}`;
const defaultLog: Log = (m) => console.log(m);

/** Aligned "service  source  endpoint  detail" lines for what `up` did. */
function summaryLines(rows: [ServiceName | 'replica', ServiceUp<string>][]): string[] {
  const width = Math.max(...rows.map(([, up]) => up.endpoint.length));
  return rows.map(
    ([name, up]) => `${name.padEnd(9)}${up.source.padEnd(16)}${up.endpoint.padEnd(width)}  ${up.detail}`,
  );
}

/**
 * Idempotent `up`: reuses what already answers, otherwise starts each service
 * (env endpoints, then Docker, then local processes), writes .stack/endpoints.env,
 * then provisions the project. Throws StackUnavailableError when a service cannot be had.
 */
export async function ensureStack(opts: StackOptions = {}): Promise<StackEndpoints> {
  const log = opts.log ?? defaultLog;
  return withStackLock(async () => {
    const [pg, kafka, redis, mail] = await Promise.allSettled([
      ensurePostgres(log),
      ensureKafka(log),
      ensureRedisCluster(log),
      ensureMailServer(log),
    ]);
    if (
      pg.status === 'rejected' ||
      kafka.status === 'rejected' ||
      redis.status === 'rejected' ||
      mail.status === 'rejected'
    ) {
      const all = [pg, kafka, redis, mail];
      const errors = all.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
      const first = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      const allUnavailable = all.every(
        (r) => r.status === 'fulfilled' || r.reason instanceof StackUnavailableError,
      );
      const err =
        first?.reason instanceof Error && errors.length === 1
          ? first.reason
          : allUnavailable
            ? new StackUnavailableError(errors.join('\n'))
            : new Error(errors.join('\n\n'));
      throw err;
    }
    const endpoints: StackEndpoints = {
      databaseUrl: pg.value.endpoint,
      ...(pg.value.readUrl ? { databaseReadUrl: pg.value.readUrl } : {}),
      kafkaBrokers: kafka.value.endpoint,
      redisClusterNodes: redis.value.endpoint,
      mail: mail.value.endpoint,
      sources: {
        postgres: pg.value.source,
        kafka: kafka.value.source,
        redis: redis.value.source,
        mail: mail.value.source,
      },
    };
    writeEndpointsFile(endpoints);
    const lines = summaryLines([
      ['postgres', { ...pg.value, endpoint: redactUrl(pg.value.endpoint) }],
      [
        'replica',
        pg.value.readUrl
          ? {
              source: pg.value.source,
              endpoint: redactUrl(pg.value.readUrl),
              detail: 'hot standby (DATABASE_READ_URL)',
            }
          : { source: pg.value.source, endpoint: '-', detail: 'none: reads go to the primary' },
      ],
      ['kafka', { ...kafka.value, endpoint: kafka.value.endpoint.join(',') }],
      ['redis', { ...redis.value, endpoint: nodesText(redis.value.endpoint) }],
      ['mail', { ...mail.value, endpoint: mailText(mail.value.endpoint) }],
    ]);
    lines.forEach((l) => log(l));
    log(`endpoints written to ${rel(ENDPOINTS_FILE)}`);
    await provisionProject(endpoints, log);
    return endpoints;
  }, log);
}

/**
 * Only the mail server (environment, ours, already running, Docker, local processes), under the stack's lock: for
 * the test runner when Postgres, Kafka and Redis come from the environment or containers.
 */
export async function ensureMail(opts: StackOptions = {}): Promise<MailEndpoints> {
  const log = opts.log ?? defaultLog;
  return withStackLock(async () => {
    const up = await ensureMailServer(log);
    log(`mail: ${up.source}  ${mailText(up.endpoint)}  ${up.detail}`);
    return up.endpoint;
  }, log);
}

/** Where each service should answer: environment, then the last `up`, then the defaults. */
function currentEndpoints(): {
  endpoints: Omit<StackEndpoints, 'sources' | 'mail'> & { mail: MailEndpoints };
  sources: Record<ServiceName, StackSource | 'unknown'>;
} {
  const file = readEndpointsFile();
  const state = readState();
  const guess = (started: boolean): StackSource | 'unknown' => (started ? 'local-started' : 'unknown');
  const env = process.env;
  const vars = Object.values(MAIL_ENV_VARS).map((v) => env[v]);
  const mailFromEnv: MailEndpoints | undefined = vars.every(Boolean)
    ? {
        smtp: env.MAIL_SMTP ?? '',
        submission: env.MAIL_SUBMISSION ?? '',
        imap: env.MAIL_IMAP ?? '',
        imaps: env.MAIL_IMAPS ?? '',
      }
    : undefined;
  return {
    endpoints: {
      databaseUrl: env.DATABASE_URL ?? file?.databaseUrl ?? DEFAULT_DATABASE_URL,
      // from the environment only together with DATABASE_URL, like `up`
      databaseReadUrl: env.DATABASE_URL ? env.DATABASE_READ_URL || undefined : file?.databaseReadUrl,
      kafkaBrokers: env.KAFKA_BROKERS
        ? env.KAFKA_BROKERS.split(',').filter(Boolean)
        : (file?.kafkaBrokers ?? DEFAULT_KAFKA_BROKERS),
      redisClusterNodes: env.REDIS_CLUSTER_NODES
        ? parseHostPorts(env.REDIS_CLUSTER_NODES)
        : (file?.redisClusterNodes ?? DEFAULT_REDIS_NODES),
      mail: mailFromEnv ?? file?.mail ?? DEFAULT_MAIL_ENDPOINTS,
    },
    sources: {
      postgres: env.DATABASE_URL ? 'env' : (file?.sources.postgres ?? guess(Boolean(state.postgres))),
      kafka: env.KAFKA_BROKERS ? 'env' : (file?.sources.kafka ?? guess(Boolean(state.kafka))),
      redis: env.REDIS_CLUSTER_NODES ? 'env' : (file?.sources.redis ?? guess(Boolean(state.redis))),
      mail: mailFromEnv ? 'env' : (file?.sources.mail ?? guess(Boolean(state.mail))),
    },
  };
}

function firstAddress(
  name: ServiceName,
  e: Omit<StackEndpoints, 'sources' | 'mail'> & { mail: MailEndpoints },
): HostPort | undefined {
  try {
    if (name === 'postgres') {
      const u = new URL(e.databaseUrl);
      return { host: u.hostname, port: Number(u.port || 5432) };
    }
    if (name === 'kafka') return e.kafkaBrokers[0] ? parseHostPorts(e.kafkaBrokers[0])[0] : undefined;
    if (name === 'mail') return parseMailEndpoint(e.mail.imap);
    return e.redisClusterNodes[0];
  } catch {
    return undefined;
  }
}

/**
 * One short health check per service (pg `select 1`, Kafka describeCluster, Redis `cluster info`, the mail
 * server's SMTP and submission EHLO and an IMAPS login).
 */
export async function stackStatus(): Promise<StackStatus> {
  const { endpoints: e, sources } = currentEndpoints();
  const readUrl = e.databaseReadUrl;
  const [pg, replica, kafka, redis, mail] = await Promise.all([
    checkPostgres(e.databaseUrl),
    readUrl
      ? checkReplica(e.databaseUrl, readUrl)
      : Promise.resolve({
          healthy: true,
          detail: 'no replica: DATABASE_READ_URL unset, reads go to the primary',
        }),
    checkKafka(e.kafkaBrokers),
    checkRedisCluster(e.redisClusterNodes),
    checkMailServer(e.mail),
  ]);
  const services: ServiceStatus[] = [
    { service: 'postgres', source: sources.postgres, endpoint: redactUrl(e.databaseUrl), ...pg },
    {
      service: 'replica',
      source: sources.postgres,
      endpoint: readUrl ? redactUrl(readUrl) : '-',
      ...replica,
    },
    { service: 'kafka', source: sources.kafka, endpoint: e.kafkaBrokers.join(','), ...kafka },
    { service: 'redis', source: sources.redis, endpoint: nodesText(e.redisClusterNodes), ...redis },
    { service: 'mail', source: sources.mail, endpoint: mailText(e.mail), ...mail },
  ];
  for (const s of services) if (s.source === 'unknown' && s.healthy) s.source = 'local-existing';
  return { services, healthy: services.every((s) => s.healthy) };
}

/** Stops exactly what this checkout started (per .stack/state.json) and leaves everything else running. */
export async function stopStack(opts: StackOptions = {}): Promise<StopReport> {
  const log = opts.log ?? defaultLog;
  return withStackLock(async () => {
    const state = readState();
    const { endpoints, sources } = currentEndpoints();
    const report: StopReport = { stopped: [], left: [] };
    const errors: string[] = [];
    const remaining: StackState = { ...state };

    const step = async (
      name: string,
      stop: () => Promise<string | undefined>,
      forget: () => void,
    ): Promise<void> => {
      try {
        const what = await stop();
        if (what) report.stopped.push(what);
        forget();
      } catch (err) {
        errors.push(`${name}: ${errorMessage(err)}`);
      }
    };
    await step(
      'kafka',
      () => stopKafka(state),
      () => delete remaining.kafka,
    );
    await step(
      'redis',
      () => stopRedisCluster(state),
      () => delete remaining.redis,
    );
    await step(
      'mail',
      () => stopMailServer(state),
      () => delete remaining.mail,
    );
    await step(
      'postgres',
      () => stopPostgres(state),
      () => delete remaining.postgres,
    );
    for (const file of state.dockerComposeFiles ?? []) {
      await step(
        file,
        () => composeDown(file),
        () => {
          remaining.dockerComposeFiles = remaining.dockerComposeFiles?.filter((f) => f !== file);
        },
      );
    }
    if (remaining.dockerComposeFiles?.length === 0) delete remaining.dockerComposeFiles;
    writeState(remaining);

    const ours: Record<ServiceName, boolean> = {
      postgres:
        Boolean(state.postgres) || Boolean(state.dockerComposeFiles?.some((f) => f.endsWith('pg.yml'))),
      kafka: Boolean(state.kafka) || Boolean(state.dockerComposeFiles?.some((f) => f.endsWith('kafka.yml'))),
      redis: Boolean(state.redis) || Boolean(state.dockerComposeFiles?.some((f) => f.endsWith('redis.yml'))),
      mail: Boolean(state.mail) || Boolean(state.dockerComposeFiles?.some((f) => f.endsWith('mail.yml'))),
    };
    for (const name of ['postgres', 'kafka', 'redis', 'mail'] as const) {
      if (ours[name]) continue;
      const at = firstAddress(name, endpoints);
      if (sources[name] !== 'unknown' || (at && (await tcpAnswers(at.host, at.port)))) {
        report.left.push(
          `${name} ${at ? `${at.host}:${at.port} ` : ''}(${sources[name] === 'unknown' ? 'running' : sources[name]}, not started by this checkout)`,
        );
      }
    }
    if (report.stopped.length > 0) fs.rmSync(ENDPOINTS_FILE, { force: true });

    for (const s of report.stopped) log(`stopped  ${s}`);
    for (const s of report.left) log(`left     ${s}`);
    if (report.stopped.length === 0 && report.left.length === 0) log('nothing to stop');
    if (errors.length > 0) throw new Error(`could not stop everything:\n${errors.join('\n')}`);
    return report;
  }, log);
}
