import { randomBytes } from 'node:crypto';
import { Kafka, type Consumer } from 'kafkajs';
import { subscribeWhenReady } from '@email-core/kafka';
import { Client } from 'pg';
import { Topics, type SyncRequested } from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  devMailServer,
  freePort,
  signUp,
  spawnApp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForHealthy,
  withDevImapSession,
  type DevMailServer,
  type RunningProduct,
  type SpawnedApp,
} from '@email-core/testing';

interface Server {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string;
  password: string;
}

interface LinkBody {
  email: string;
  imap: Server;
  smtp: Server;
}

interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

interface AccountItem {
  id: string;
  provider: string;
  email: string;
  status: string;
}

/**
 * Linking an IMAP/SMTP mailbox through the API, end to end on the real stack: the producer logs in to the stack's
 * Dovecot (IMAP, STARTTLS and TLS) and authenticates to its Postfix submission port before storing anything; the
 * account, its sealed settings and the sync request commit together; each failure answers its code and stores
 * nothing; a producer without IMAP_ALLOW_PRIVATE_HOSTS refuses loopback, private and metadata hosts (the SSRF
 * rule); and no password appears in an API answer, an app log or a Kafka message.
 */
describe('POST /accounts/imap (real stack and mail server)', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  /** a producer on the same database and topics with the SSRF rule on (IMAP_ALLOW_PRIVATE_HOSTS=false) */
  let guarded: SpawnedApp | undefined;
  let guardedApi: string;
  let db: Client;
  let kafka: Consumer | undefined;
  const kafkaValues: Array<{ topic: string; value: string }> = [];
  const answers: string[] = [];
  /** every password sent in this file: none may come back anywhere */
  const secrets = new Set<string>();

  const address = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}@example.test`;

  /** an API call whose answer joins the leak scan */
  async function call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; api?: string } = {},
  ) {
    const res = await apiCall<T>(opts.api ?? product.api, method, path, opts);
    answers.push(JSON.stringify(res.body) + JSON.stringify([...res.headers]));
    return res;
  }

  function settings(email: string, over: { imap?: Partial<Server>; smtp?: Partial<Server> } = {}): LinkBody {
    const body: LinkBody = {
      email,
      imap: {
        host: mail.imap.host,
        port: mail.imap.port,
        security: 'starttls',
        username: email,
        password: mail.password,
        ...over.imap,
      },
      smtp: {
        host: mail.submission.host,
        port: mail.submission.port,
        security: 'starttls',
        username: email,
        password: mail.password,
        ...over.smtp,
      },
    };
    secrets.add(body.imap.password);
    secrets.add(body.smtp.password);
    return body;
  }

  const link = (token: string, body: unknown, api?: string) =>
    call<{ id: string; status: string } & Partial<ErrorBody>>('POST', '/api/v1/accounts/imap', {
      token,
      body,
      api,
    });

  const accountsOf = async (token: string) =>
    (await call<{ items: AccountItem[] }>('GET', '/api/v1/accounts', { token })).body.items;

  const rowsFor = async (email: string) =>
    (
      await db.query<{
        id: string;
        provider: string;
        external_user_id: string;
        status: string;
        status_reason: string | null;
        token_key_id: string | null;
        access_token_enc: string | null;
        refresh_token_enc: string | null;
      }>(
        `SELECT id, provider, external_user_id, status, status_reason, token_key_id, access_token_enc,
                refresh_token_enc
           FROM mail_accounts WHERE lower(email) = lower($1)`,
        [email],
      )
    ).rows;

  const outboxFor = async (accountId: string) =>
    (
      await db.query<{ topic: string; message_key: string; payload: SyncRequested }>(
        `SELECT topic, message_key, payload FROM outbox WHERE message_key = $1 ORDER BY id`,
        [accountId],
      )
    ).rows;

  beforeAll(async () => {
    const server = devMailServer();
    if (!server)
      throw new Error(
        'no dev mail server: run `npm run stack:up` (MAIL_SUBMISSION, MAIL_IMAP in .stack/endpoints.env, DEV_MAIL_PASSWORD)',
      );
    mail = server;
    secrets.add(mail.password);
    // startProduct gives the apps IMAP_ALLOW_PRIVATE_HOSTS=true and IMAP_CA_FILE = the stack's CA
    product = await startProduct();
    expect(product.env.IMAP_ALLOW_PRIVATE_HOSTS).toBe('true');
    expect(product.env.IMAP_CA_FILE).toBeTruthy();
    const port = await freePort();
    guardedApi = `http://127.0.0.1:${port}`;
    guarded = spawnApp('producer', {
      ...product.env,
      PRODUCER_PORT: String(port),
      IMAP_ALLOW_PRIVATE_HOSTS: 'false',
      REALTIME_INSTANCE_ID: `guarded-${randomBytes(3).toString('hex')}`,
    });
    const app = guarded;
    await waitForHealthy(() => app, `${guardedApi}/health`);

    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();

    const run = currentTestRun();
    kafka = new Kafka({ clientId: 'link-imap-e2e', brokers: run.kafkaBrokers, logLevel: 0 }).consumer({
      groupId: `link-imap-e2e-${Date.now()}`,
    });
    await kafka.connect();
    await subscribeWhenReady(kafka, {
      topics: Object.values(Topics).map((t) => `${run.topicPrefix}${t}`),
      fromBeginning: true,
    });
    await kafka.run({
      eachMessage: ({ topic, message }) => {
        kafkaValues.push({
          topic,
          value: (message.value?.toString('utf8') ?? '') + JSON.stringify(message.headers ?? {}),
        });
        return Promise.resolve();
      },
    });
  }, 240_000);

  afterAll(async () => {
    await kafka?.disconnect();
    await db?.end();
    await guarded?.stop();
    await product?.stop();
  });

  it('links a dev mailbox: 201 {id, syncing}, listed with provider imap, settings sealed, the sync requested', async () => {
    const user = await signUp(product.api);
    const email = address('linked');
    const res = await link(user.token, settings(email));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String) as string, status: 'syncing' });
    const id = res.body.id;

    const items = await accountsOf(user.token);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id, provider: 'imap', email, status: 'syncing' });

    const [row] = await rowsFor(email);
    expect(row).toMatchObject({ id, provider: 'imap', external_user_id: email.toLowerCase() });
    expect(row.token_key_id).toBe('k1');
    expect(row.access_token_enc).toBeTruthy();
    for (const column of [row.access_token_enc, row.refresh_token_enc]) {
      expect(column).not.toContain(mail.password);
      expect(Buffer.from(column ?? '', 'base64').toString('latin1')).not.toContain(mail.password);
    }

    // the same sync request the Outlook link writes: sync.requested, reason linked, keyed by the account
    const outbox = await outboxFor(id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      topic: Topics.syncRequests,
      message_key: id,
      payload: { type: 'sync.requested', v: 1, accountId: id, reason: 'linked' },
    });
  }, 60_000);

  it('the consumer then syncs the linked mailbox: synced, its INBOX mail mirrored', async () => {
    const user = await signUp(product.api);
    const email = address('synced');
    const subject = `linked over IMAP ${randomBytes(4).toString('hex')}`;
    // a mail already in the mailbox before the link
    await withDevImapSession(mail, email, (client) =>
      client.append(
        'INBOX',
        `From: someone@example.test\r\nTo: ${email}\r\nSubject: ${subject}\r\nMessage-ID: <${randomBytes(6).toString('hex')}@example.test>\r\n\r\nhello\r\n`,
      ),
    );

    const res = await link(user.token, settings(email));
    expect(res.status).toBe(201);
    await waitForAccountStatus(product.api, user.token, 'synced', {
      accountId: res.body.id,
      timeoutMs: 60_000,
    });
    const messages = await waitFor(
      async () => {
        const page = await call<{ items: Array<{ subject: string }> }>(
          'GET',
          `/api/v1/accounts/${res.body.id}/messages`,
          { token: user.token },
        );
        return page.body.items?.some((m) => m.subject === subject) ? page.body.items : undefined;
      },
      { timeoutMs: 30_000, what: 'the mail mirrored' },
    );
    expect(messages.map((m) => m.subject)).toContain(subject);
  }, 120_000);

  it('links over implicit TLS (IMAPS) too', async () => {
    const user = await signUp(product.api);
    const email = address('imaps');
    const imaps = Number(process.env.MAIL_IMAPS?.split(':')[1] ?? 2993);
    const res = await link(user.token, settings(email, { imap: { port: imaps, security: 'tls' } }));
    expect(res.status).toBe(201);
  }, 60_000);

  it('linking the same mailbox again re-links it: 200, same id, settings replaced, reauth_required cleared', async () => {
    const user = await signUp(product.api);
    const email = address('relink');
    const first = await link(user.token, settings(email));
    expect(first.status).toBe(201);
    await db.query(
      `UPDATE mail_accounts SET status = 'reauth_required', status_reason = 'test' WHERE id = $1`,
      [first.body.id],
    );
    const [before] = await rowsFor(email);

    const again = await link(user.token, settings(email.toUpperCase()));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, status: 'syncing' });
    const rows = await rowsFor(email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: first.body.id, status: 'syncing', status_reason: null });
    expect(rows[0].access_token_enc).not.toBe(before.access_token_enc);
    const reasons = (await outboxFor(first.body.id)).map((r) => r.payload.reason);
    expect(reasons).toEqual(['linked', 'relinked']);
    expect(await accountsOf(user.token)).toHaveLength(1);
  }, 60_000);

  const refusals: Array<[string, string, { imap?: Partial<Server>; smtp?: Partial<Server> }, string]> = [
    [
      'a wrong IMAP password',
      'IMAP_AUTH_FAILED',
      { imap: { password: `wrong-imap-${randomBytes(6).toString('hex')}` } },
      'imap',
    ],
    [
      'a wrong SMTP password',
      'SMTP_AUTH_FAILED',
      { smtp: { password: `wrong-smtp-${randomBytes(6).toString('hex')}` } },
      'smtp',
    ],
    ['TLS spoken to the STARTTLS port', 'IMAP_TLS_FAILED', { imap: { security: 'tls' } }, 'imap'],
  ];

  it.each(refusals)(
    '%s: 422 %s, nothing stored',
    async (_name, code, over, server) => {
      const user = await signUp(product.api);
      const email = address('refused');
      const res = await link(user.token, settings(email, over));
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: code, details: { server } });
      expect(await rowsFor(email)).toEqual([]);
      expect(await accountsOf(user.token)).toEqual([]);
    },
    60_000,
  );

  it('a closed port: 422 IMAP_UNREACHABLE (and SMTP_UNREACHABLE), nothing stored', async () => {
    const user = await signUp(product.api);
    const closed = await freePort();
    const imapDown = address('down');
    const res = await link(user.token, settings(imapDown, { imap: { port: closed } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'IMAP_UNREACHABLE', details: { server: 'imap' } });
    const smtpDown = address('down');
    const smtp = await link(user.token, settings(smtpDown, { smtp: { port: closed } }));
    expect(smtp.status).toBe(422);
    expect(smtp.body).toMatchObject({ error: 'SMTP_UNREACHABLE', details: { server: 'smtp' } });
    expect(await rowsFor(imapDown)).toEqual([]);
    expect(await rowsFor(smtpDown)).toEqual([]);
  }, 60_000);

  it('refuses malformed settings with 400 VALIDATION_FAILED naming the field', async () => {
    const user = await signUp(product.api);
    const email = address('invalid');
    const cases: Array<[(b: LinkBody) => void, string]> = [
      [(b) => (b.imap.host = `imap://${mail.imap.host}`), 'imap.host'],
      [(b) => (b.imap.host = `${mail.imap.host}:${mail.imap.port}`), 'imap.host'],
      [(b) => (b.smtp.host = `${mail.submission.host}/x`), 'smtp.host'],
      [(b) => (b.imap.port = 0), 'imap.port'],
      [(b) => (b.smtp.port = 65536), 'smtp.port'],
      [(b) => ((b.imap as { security: string }).security = 'ssl'), 'imap.security'],
      [(b) => (b.imap.password = ''), 'imap.password'],
    ];
    for (const [change, path] of cases) {
      const body = settings(email);
      change(body);
      const res = await link(user.token, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('VALIDATION_FAILED');
      expect((res.body.details as Array<{ path: string }>).map((d) => d.path)).toContain(path);
    }
    const unknown = await link(user.token, { ...settings(email), provider: 'imap' });
    expect(unknown.status).toBe(400);
    expect(await rowsFor(email)).toEqual([]);
    // without a token: 401, nothing tried
    expect((await link('', settings(email))).status).toBe(401);
  }, 60_000);

  it('without IMAP_ALLOW_PRIVATE_HOSTS: 127.0.0.1, 10.0.0.1, 169.254.169.254 and localhost are HOST_NOT_ALLOWED', async () => {
    const user = await signUp(guardedApi);
    for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', 'localhost', '::ffff:127.0.0.1']) {
      const email = address('ssrf');
      const started = Date.now();
      const res = await link(user.token, settings(email, { imap: { host } }), guardedApi);
      expect([host, res.status]).toEqual([host, 422]);
      expect(res.body).toMatchObject({ error: 'HOST_NOT_ALLOWED', details: { server: 'imap' } });
      // refused before any connection: 10.0.0.1 would otherwise wait for the connect timeout
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await rowsFor(email)).toEqual([]);
    }
    // the SMTP host is judged the same way (the IMAP one being a real, reachable server is not enough)
    const email = address('ssrf-smtp');
    const res = await link(
      user.token,
      settings(email, { imap: { host: '169.254.169.254' }, smtp: { host: '10.0.0.1' } }),
      guardedApi,
    );
    expect(res.body).toMatchObject({ error: 'HOST_NOT_ALLOWED' });
    expect(await accountsOf(user.token)).toEqual([]);
  }, 60_000);

  it('is documented in the OpenAPI document: the body schema, 201/200, 400, 422 and 429', async () => {
    const res = await fetch(`${product.api}/api/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
            responses: Record<string, unknown>;
          }
        >
      >;
    };
    const op = doc.paths['/api/v1/accounts/imap']?.post;
    expect(op?.requestBody?.content['application/json'].schema.required).toEqual(['email', 'imap', 'smtp']);
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(['200', '201', '400', '401', '422', '429']);
  }, 30_000);

  it('no password in any API answer, either producer log, the consumer log or any Kafka message', async () => {
    expect(secrets.size).toBeGreaterThanOrEqual(3);
    // the outbox rows written above reach Kafka: wait until the sync requests are read back
    await waitFor(
      () =>
        Promise.resolve(
          kafkaValues.filter((v) => v.topic.endsWith(Topics.syncRequests)).length >= 3 || undefined,
        ),
      { timeoutMs: 30_000, what: 'the sync requests read back from Kafka' },
    );
    const haystacks: Array<[string, string]> = [
      ...kafkaValues.map((v): [string, string] => [`kafka ${v.topic}`, v.value]),
      ['producer log', product.producer.output()],
      ['guarded producer log', guarded?.output() ?? ''],
      ['consumer log', product.consumer.output()],
      ...answers.map((a, i): [string, string] => [`answer ${i}`, a]),
    ];
    const leaks: string[] = [];
    for (const secret of secrets) {
      for (const [where, text] of haystacks) if (text.includes(secret)) leaks.push(`a password in ${where}`);
    }
    expect(leaks).toEqual([]);
    // the refusals were logged, by code
    expect(product.producer.output()).toContain('IMAP_AUTH_FAILED');
  }, 60_000);
});
