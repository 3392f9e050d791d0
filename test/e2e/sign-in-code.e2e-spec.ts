import { randomBytes } from 'node:crypto';
import { Kafka, type Consumer } from 'kafkajs';
import { subscribeWhenReady } from '@email-core/kafka';
import { Topics } from '@email-core/contracts';
import {
  apiCall,
  codeInMail,
  currentTestRun,
  devMailServer,
  freePort,
  signUp,
  spawnApp,
  startProduct,
  waitFor,
  waitForHealthy,
  waitForMail,
  type DevMailServer,
  type RunningProduct,
  type SpawnedApp,
} from '@email-core/testing';

/**
 * Sign-in by emailed code end to end: the real producer (request, verify), the outbox, Kafka, the real consumer's
 * mailer sending through the stack's Postfix (submission, STARTTLS, AUTH), the mail read from its Dovecot mailbox
 * over IMAP with imapflow, the session it opens; the error cases, each with its code; address verification and
 * operator rights; and a leak scan of every Kafka topic, both apps' logs and every API answer.
 */
describe('sign-in by emailed code (real stack and mail server)', () => {
  const OPS_ADDRESS = `ops-${randomBytes(4).toString('hex')}@example.test`;
  let mail: DevMailServer;
  let product: RunningProduct;
  let shortLived: SpawnedApp | undefined;
  let shortLivedApi: string;
  let kafka: Consumer | undefined;
  const kafkaValues: Array<{ topic: string; value: string; headers: string }> = [];
  const answers: string[] = [];
  const codesSeen = new Set<string>();

  const address = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}@example.test`;

  /** an API call whose answer joins the leak scan */
  async function call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; cookie?: string; api?: string } = {},
  ) {
    const res = await apiCall<T>(opts.api ?? product.api, method, path, opts);
    answers.push(JSON.stringify(res.body) + JSON.stringify([...res.headers]));
    return res;
  }

  async function requestCode(email: string, api?: string) {
    return call<{ status: string; message: string }>('POST', '/api/v1/auth/code/request', {
      body: { email },
      api,
    });
  }

  async function verifyCode(email: string, code: string) {
    return call<{ accessToken?: string; error?: string }>('POST', '/api/v1/auth/code/verify', {
      body: { email, code },
    });
  }

  /** the code of the `n`th mail (1-based) to `email`, once it has arrived */
  async function nthCode(email: string, n = 1): Promise<string> {
    const mails = await waitForMail(mail, email, n, 60_000);
    const code = codeInMail(mails[n - 1] ?? mails[mails.length - 1]);
    codesSeen.add(code);
    return code;
  }

  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  beforeAll(async () => {
    const server = devMailServer();
    if (!server)
      throw new Error(
        'no dev mail server: run `npm run stack:up` (MAIL_SUBMISSION, MAIL_IMAP in .stack/endpoints.env, DEV_MAIL_PASSWORD)',
      );
    mail = server;
    // isolated: its own topics and consumer groups, so no other test file's consumer takes (and cannot open) its
    // sealed codes, and its scans see only its own messages
    product = await startProduct({
      isolated: true,
      appEnv: {
        SIGN_IN_CODE_REQUESTS_PER_IP: '1000',
        OPS_ADMIN_EMAILS: OPS_ADDRESS,
        KAFKA_RETRY_BACKOFF_MS: '1000,2000,4000',
      },
    });
    // a second producer whose codes live 2 seconds (same database, Redis, topics and secrets)
    const port = await freePort();
    shortLivedApi = `http://127.0.0.1:${port}`;
    shortLived = spawnApp('producer', {
      ...product.env,
      PRODUCER_PORT: String(port),
      SIGN_IN_CODE_TTL_SECONDS: '2',
      REALTIME_INSTANCE_ID: `short-ttl-${randomBytes(3).toString('hex')}`,
    });
    const app = shortLived;
    await waitForHealthy(() => app, `${shortLivedApi}/health`);

    const run = currentTestRun();
    const client = new Kafka({ clientId: 'sign-in-code-e2e', brokers: run.kafkaBrokers, logLevel: 0 });
    const topics = Object.values(Topics).map((t) => `${product.env.KAFKA_TOPIC_PREFIX}${t}`);
    kafka = client.consumer({
      groupId: `sign-in-code-e2e-${Date.now()}`,
    });
    await kafka.connect();
    await subscribeWhenReady(kafka, {
      topics,
      fromBeginning: true,
    });
    await kafka.run({
      eachMessage: ({ topic, message }) => {
        kafkaValues.push({
          topic,
          value: message.value?.toString('utf8') ?? '',
          headers: JSON.stringify(message.headers ?? {}),
        });
        return Promise.resolve();
      },
    });
  }, 240_000);

  afterAll(async () => {
    await kafka?.disconnect();
    await shortLived?.stop();
    await product?.stop();
  });

  it('mails a code (read over IMAP) that signs a new user in, verified, with a working session; never twice', async () => {
    const email = address('first');
    const requested = await requestCode(email);
    expect(requested.status).toBe(202);
    const [received] = await waitForMail(mail, email, 1, 60_000);
    expect(received.subject).toBe('Your Email Core sign-in code');
    expect(received.messageId).toMatch(/^<[0-9a-f-]{36}@email-core\.localhost>$/);
    expect(received.source).toMatch(/Content-Type: text\/plain/i);
    expect(received.source).toMatch(/Content-Type: text\/html/i);
    const code = codeInMail(received);
    codesSeen.add(code);

    const signedIn = await verifyCode(email, code);
    expect(signedIn.status).toBe(200);
    expect(typeof signedIn.body.accessToken).toBe('string');
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ec_refresh=[^;]+;.*HttpOnly/i);

    const me = await call<{ email: string; emailVerifiedAt: string | null; operator: boolean }>(
      'GET',
      '/api/v1/me',
      { token: signedIn.body.accessToken },
    );
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email);
    expect(me.body.emailVerifiedAt).not.toBeNull();
    expect(me.body.operator).toBe(false);

    // the rotating refresh cookie works like after a password sign-in
    const refreshed = await call<{ accessToken: string }>('POST', '/api/v1/auth/refresh', {
      cookie: cookie.split(';')[0],
    });
    expect(refreshed.status).toBe(200);

    // a used code never works again
    const again = await verifyCode(email, code);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('CODE_INVALID');

    // an existing user signs in by code too (same user)
    await requestCode(email);
    const second = await verifyCode(email, await nthCode(email, 2));
    expect(second.status).toBe(200);
    const me2 = await call<{ id: string }>('GET', '/api/v1/me', { token: second.body.accessToken });
    expect(me2.body).toMatchObject({ email });
  }, 120_000);

  it('answers an unknown and a known address byte for byte alike', async () => {
    const known = (await signUp(product.api, address('known'))).email;
    const unknown = address('unknown');
    const raw = async (email: string) => {
      const res = await fetch(`${product.api}/api/v1/auth/code/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      const body = await res.text();
      answers.push(body);
      return { status: res.status, body, type: res.headers.get('content-type') };
    };
    const a = await raw(known);
    const b = await raw(unknown);
    expect(a.status).toBe(202);
    expect(b).toEqual(a);
    // both really get a code
    await nthCode(known, 2); // the first is sign-up's verification mail
    await nthCode(unknown, 1);
  }, 90_000);

  it('5 wrong codes burn it: CODE_INVALID four times, then CODE_ATTEMPTS_EXCEEDED, even for the right one', async () => {
    const email = address('guess');
    await requestCode(email);
    const code = await nthCode(email);
    const errors: Array<string | undefined> = [];
    for (let i = 0; i < 5; i += 1) errors.push((await verifyCode(email, wrong(code))).body.error);
    expect(errors).toEqual([
      'CODE_INVALID',
      'CODE_INVALID',
      'CODE_INVALID',
      'CODE_INVALID',
      'CODE_ATTEMPTS_EXCEEDED',
    ]);
    const right = await verifyCode(email, code);
    expect(right.status).toBe(400);
    expect(right.body.error).toBe('CODE_ATTEMPTS_EXCEEDED');
  }, 90_000);

  it('a code never works for another address; a new request replaces the old code', async () => {
    const a = address('owner');
    const b = address('other');
    await requestCode(a);
    await requestCode(b);
    const codeA = await nthCode(a);
    const codeB = await nthCode(b);
    const crossed = await verifyCode(b, codeA);
    expect(crossed.status).toBe(400);
    expect(crossed.body.error).toBe('CODE_INVALID');

    await requestCode(b);
    const codeB2 = await nthCode(b, 2);
    if (codeB !== codeB2) expect((await verifyCode(b, codeB)).body.error).toBe('CODE_INVALID');
    expect((await verifyCode(b, codeB2)).status).toBe(200);
    expect((await verifyCode(a, codeA)).status).toBe(200);
  }, 90_000);

  it('an expired code answers CODE_EXPIRED', async () => {
    const email = address('late');
    expect((await requestCode(email, shortLivedApi)).status).toBe(202);
    const code = await nthCode(email);
    await new Promise((r) => setTimeout(r, 2500));
    const late = await verifyCode(email, code);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('CODE_EXPIRED');
  }, 90_000);

  it('the 4th request for one address within 15 minutes is 429 RATE_LIMITED with Retry-After', async () => {
    const email = address('busy');
    for (let i = 0; i < 3; i += 1) expect((await requestCode(email)).status).toBe(202);
    const limited = await call<{ error: string }>('POST', '/api/v1/auth/code/request', { body: { email } });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // three mails, each with its own Message-ID
    const mails = await waitForMail(mail, email, 3, 60_000);
    for (const m of mails) codesSeen.add(codeInMail(m));
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(3);
  }, 90_000);

  it('a password sign-up is unverified and no operator even when listed; verifying the mailed code makes it one', async () => {
    const { token } = await signUp(product.api, OPS_ADDRESS);
    const before = await call<{ emailVerifiedAt: string | null; operator: boolean }>('GET', '/api/v1/me', {
      token,
    });
    expect(before.body).toMatchObject({ emailVerifiedAt: null, operator: false });
    expect((await call('GET', '/api/v1/ops/subscriptions', { token })).status).toBe(403);

    const code = await nthCode(OPS_ADDRESS);
    const wrongTry = await call<{ error: string }>('POST', '/api/v1/auth/verify-email', {
      token,
      body: { code: wrong(code) },
    });
    expect(wrongTry.body.error).toBe('CODE_INVALID');
    const verified = await call<{ emailVerifiedAt: string }>('POST', '/api/v1/auth/verify-email', {
      token,
      body: { code },
    });
    expect(verified.status).toBe(200);
    const after = await call<{ emailVerifiedAt: string | null; operator: boolean }>('GET', '/api/v1/me', {
      token,
    });
    expect(after.body.emailVerifiedAt).toBe(verified.body.emailVerifiedAt);
    expect(after.body.operator).toBe(true);
    expect((await call('GET', '/api/v1/ops/subscriptions', { token })).status).toBe(200);
  }, 90_000);

  it('leaves no code in plain text in any Kafka topic, either app log or any API answer; nothing dead-lettered', async () => {
    expect(codesSeen.size).toBeGreaterThanOrEqual(10);
    const systemMail = `${product.env.KAFKA_TOPIC_PREFIX}${Topics.systemMail}`;
    await waitFor(
      () =>
        Promise.resolve(
          kafkaValues.filter((v) => v.topic === systemMail).length >= codesSeen.size || undefined,
        ),
      { timeoutMs: 30_000, what: 'the system-mail topic read back' },
    );
    const haystacks: Array<[string, string]> = [
      ...kafkaValues.map((v): [string, string] => [`kafka ${v.topic}`, v.value + v.headers]),
      ['producer log', product.producer.output()],
      ['short-TTL producer log', shortLived?.output() ?? ''],
      ['consumer log', product.consumer.output()],
      ...answers.map((a, i): [string, string] => [`answer ${i}`, a]),
    ];
    const leaks: string[] = [];
    for (const code of codesSeen) {
      const pattern = new RegExp(`(?<![0-9])${code}(?![0-9])`);
      for (const [where, text] of haystacks) if (pattern.test(text)) leaks.push(`${code} in ${where}`);
    }
    expect(leaks).toEqual([]);
    // every system mail was sent on its first try
    const deadLetter = `${product.env.KAFKA_TOPIC_PREFIX}${Topics.deadLetter}`;
    expect(kafkaValues.filter((v) => v.topic === deadLetter && v.value.includes(Topics.systemMail))).toEqual(
      [],
    );
  }, 60_000);
});
