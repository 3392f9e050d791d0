/**
 * `npm start`: the whole product on one machine. Brings up the stack (Postgres, Kafka, Redis Cluster, mail server),
 * builds the dashboard, starts the Outlook emulator when no Microsoft app is configured, then the producer
 * and the consumer, and prints the dashboard URL. Ctrl-C stops the apps (the stack stays up: `npm run stack:down`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { microsoftTrust } from './start-env';
import {
  DEMO_IMAP_ADDRESS,
  ensureStack,
  fillDemoMailbox,
  imapAdapterEnv,
  mailCaFile,
  systemMailSmtpEnv,
  type MailEndpoints,
} from '@email-core/stack';
import { loadDevSecrets } from '@email-core/config';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
const log = (m: string) => process.stdout.write(`[start] ${m}\n`);

/**
 * The producer's young generation kept small: large uploads come in 4 MiB chunks, whose buffers frequent scavenges
 * free at once instead of letting them pile up to V8's external-memory threshold (docs/attachments.md, "Memory").
 */
const NODE_FLAGS: Record<string, string[]> = { producer: ['--max-semi-space-size=2'] };

function run(name: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    process.execPath,
    [...(NODE_FLAGS[name] ?? []), '-r', '@swc-node/register', path.join('apps', name, 'src', 'main.ts')],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  child.stdout?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  child.on('exit', (code, signal) => {
    log(`${name} exited (${code ?? signal})`);
    if (!stopping) shutdown(1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  // the apps stop in about a second and exit on their own after 25 s at most (their shutdown watchdog)
  setTimeout(() => process.exit(code), 30_000).unref();
  Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode === null ? c.on('exit', r) : r(null)))),
  ).then(
    () => process.exit(code),
    () => process.exit(code),
  );
}

/** How to open the dev mailboxes of the stack's mail server in any mail client (the password's file, never the password). */
function mailAccessLine(mail: MailEndpoints): string {
  const rel = (p: string) => path.relative(root, p) || p;
  return (
    `dev mailboxes: IMAP ${mail.imap} (STARTTLS) or ${mail.imaps} (TLS), user = any full address (mail to any ` +
    `address on any domain lands there), password = DEV_MAIL_PASSWORD in ${rel(path.join(root, '.stack', 'dev-secrets.env'))}; ` +
    `send with SMTP ${mail.submission} (STARTTLS, same login) or ${mail.smtp} (no login); ` +
    `certificate from the local CA ${rel(mailCaFile())}`
  );
}

/** The demo IMAP mailbox's settings for the producer (`GET /api/v1/dev/demo-imap`, development only). */
function demoImapEnv(mail: MailEndpoints, password: string): Record<string, string> {
  return {
    DEMO_IMAP_EMAIL: DEMO_IMAP_ADDRESS,
    DEMO_IMAP_PASSWORD: password,
    DEMO_IMAP_URL: `imaps://${mail.imaps}`,
    DEMO_SMTP_URL: `smtp://${mail.submission}`,
  };
}

/**
 * Fills the demo IMAP mailbox (only when it is empty) and answers the line that says how to connect it. Its own
 * IMAP session over IMAPS, trusting the project CA.
 */
async function fillDemoImap(mail: MailEndpoints, password: string): Promise<string> {
  try {
    const result = await fillDemoMailbox({
      endpoint: mail.imaps,
      security: 'tls',
      address: DEMO_IMAP_ADDRESS,
      password,
      ca: [readFileSync(mailCaFile(), 'utf8')],
    });
    const what = result.filled
      ? `filled with ${result.appended} messages in ${result.folders.length} folders`
      : `${result.total} messages`;
    return (
      `demo IMAP mailbox: ${DEMO_IMAP_ADDRESS} (${what}); in the dashboard, Accounts → Connect an IMAP account → ` +
      `"Use the demo mailbox" (IMAP ${mail.imaps} TLS, SMTP ${mail.submission} STARTTLS, password = DEV_MAIL_PASSWORD)`
    );
  } catch (err) {
    return `could not fill the demo IMAP mailbox ${DEMO_IMAP_ADDRESS}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function waitHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(5000) })).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

const DEMO_MAILBOX = 'demo@contoso.example';

/**
 * On the emulator, a mailbox to connect: `demo@contoso.example` (any password) with 500 generated messages,
 * unless EMULATOR_DEMO_MAILBOX=off. The emulator keeps mail in memory, so each start creates it afresh.
 */
async function createDemoMailbox(port: string, ca: string): Promise<void> {
  const body = JSON.stringify({
    address: DEMO_MAILBOX,
    displayName: 'Demo User',
    seed: { messages: 500, folders: 3, seed: 7 },
  });
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const status = await new Promise<number>((resolve) => {
      const req = request(
        {
          host: 'localhost',
          port: Number(port),
          path: '/_emulator/mailboxes',
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
    if (status === 201 || status === 200 || status === 409) {
      log(`demo mailbox: Connect Outlook in the dashboard and sign in as ${DEMO_MAILBOX} (any password)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  log('could not create the demo mailbox (the emulator did not answer); create one with its admin API');
}

async function main(): Promise<void> {
  const endpoints = await ensureStack({ log });
  const secrets = loadDevSecrets();
  const producerPort = process.env.PRODUCER_PORT ?? '3000';
  const emulatorPort = process.env.EMULATOR_PORT ?? '8443';
  // The emulator serves HTTPS from its own local CA; the apps trust that CA for their Microsoft requests only
  // (MS_CA_FILE), and with a real Microsoft app not at all (scripts/start-env.ts). TLS is verified either way.
  const trust = microsoftTrust(process.env);
  // the demo IMAP mailbox on the stack's mail server, unless IMAP_DEMO_MAILBOX=off
  const demoImap = Boolean(endpoints.mail) && process.env.IMAP_DEMO_MAILBOX !== 'off';
  const env: NodeJS.ProcessEnv = {
    ...trust.env,
    ...secrets,
    DATABASE_URL: process.env.DATABASE_URL ?? endpoints.databaseUrl,
    // the producers' queries read the stack's hot standby (CQRS read side); none when DATABASE_URL is yours alone
    ...(process.env.DATABASE_READ_URL || endpoints.databaseReadUrl
      ? { DATABASE_READ_URL: process.env.DATABASE_READ_URL || endpoints.databaseReadUrl }
      : {}),
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? endpoints.kafkaBrokers.join(','),
    REDIS_CLUSTER_NODES:
      process.env.REDIS_CLUSTER_NODES ??
      endpoints.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(','),
    ...(endpoints.mail
      ? {
          MAIL_SMTP: process.env.MAIL_SMTP ?? endpoints.mail.smtp,
          MAIL_SUBMISSION: process.env.MAIL_SUBMISSION ?? endpoints.mail.submission,
          MAIL_IMAP: process.env.MAIL_IMAP ?? endpoints.mail.imap,
          MAIL_IMAPS: process.env.MAIL_IMAPS ?? endpoints.mail.imaps,
          MAIL_CA_FILE: mailCaFile(),
          // the consumer's mailer sends system mail through submission with the dev login (unless SMTP_URL is set)
          ...systemMailSmtpEnv(endpoints.mail, secrets.DEV_MAIL_PASSWORD, mailCaFile()),
          // the IMAP adapter reaches this server (127.0.0.1, the project CA) as a user's mail server
          ...imapAdapterEnv(mailCaFile()),
          // the demo IMAP mailbox for the dashboard's "Use the demo mailbox" (the producer offers it in development only)
          ...(demoImap ? demoImapEnv(endpoints.mail, secrets.DEV_MAIL_PASSWORD) : {}),
        }
      : {}),
    PRODUCER_PORT: producerPort,
    // the Ops page's live panel reads the consumer's GET /metrics on its health port (CONSUMER_PORT, default 3001)
    OPS_CONSUMER_METRICS_URLS:
      process.env.OPS_CONSUMER_METRICS_URLS ?? `http://127.0.0.1:${process.env.CONSUMER_PORT ?? '3001'}`,
    // the dashboard, the OAuth callback and the webhook all live on the producer's port unless told otherwise
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${producerPort}`,
  };

  if (!process.env.MS_CLIENT_ID) {
    log('no MS_CLIENT_ID set: running against the bundled Outlook emulator');
    Object.assign(env, {
      EMULATOR_DEMO_REDIRECT_URIS:
        env.EMULATOR_DEMO_REDIRECT_URIS ?? `${env.PUBLIC_BASE_URL}/api/v1/accounts/outlook/callback`,
      EMULATOR_PORT: emulatorPort,
      MS_CLIENT_ID: env.EMULATOR_DEMO_CLIENT_ID ?? 'email-core-dev',
      MS_CLIENT_SECRET: secrets.EMULATOR_DEMO_CLIENT_SECRET,
      MS_AUTHORITY: `https://localhost:${emulatorPort}/common`,
      MS_GRAPH_BASE_URL: `https://localhost:${emulatorPort}`,
    });
    run('outlook-emulator', env);
    if (process.env.EMULATOR_DEMO_MAILBOX !== 'off' && trust.certs)
      void createDemoMailbox(emulatorPort, trust.certs.ca);
  } else {
    log(
      `using the Microsoft app ${process.env.MS_CLIENT_ID} at ${process.env.MS_AUTHORITY ?? 'login.microsoftonline.com'}`,
    );
  }

  log('building the dashboard');
  const build = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      'apps/dashboard',
      '--logLevel',
      'warn',
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) throw new Error('dashboard build failed');

  // filled while the apps start (the build above blocks the event loop, so not before it)
  const demoImapLine =
    demoImap && endpoints.mail ? fillDemoImap(endpoints.mail, secrets.DEV_MAIL_PASSWORD) : undefined;

  run('producer', env);
  run('consumer', env);

  const url = `http://127.0.0.1:${producerPort}/`;
  if (await waitHealthy(`http://127.0.0.1:${producerPort}/health`, 90000)) {
    log(`ready. Dashboard: ${url}  (API: ${url}api/v1, health: ${url}health). Ctrl-C to stop.`);
    // nobody is an operator by default, not even in the demo: the Ops page is granted per user
    log('the Ops page is for operators: sign up, then run `npm run ops:grant -- <your email>`');
  } else {
    log(`the producer is up but not healthy yet; see ${url}health`);
  }
  if (endpoints.mail) log(mailAccessLine(endpoints.mail));
  if (demoImapLine) log(await demoImapLine);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
main().catch((err: unknown) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  shutdown(1);
});
