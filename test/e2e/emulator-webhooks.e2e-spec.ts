import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startEmulator, waitFor, type RunningEmulator } from '@email-core/testing';
import { defaultCertDir, ensureCertificates } from '@email-core/certs';

/**
 * Graph change notifications from the real emulator process to a real local receiver, over HTTP both ways:
 * the validation handshake, batched deliveries, retries on 5xx and on slow answers, lifecycle events, and the
 * refusals (failed handshake, expiry past the cap), all through `/v1.0/subscriptions` as a Graph client sees it.
 */

interface Received {
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
  at: number;
}

type Answer = { status: number; body?: string; delayMs?: number };

/**
 * A local webhook receiver: answers handshakes correctly unless told otherwise, and records everything. Plain
 * http on 127.0.0.1, or https on localhost with a certificate from the emulator's own CA (which every test
 * process, the emulator included, trusts through NODE_EXTRA_CA_CERTS).
 */
class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, (r: Received, nth: number) => Answer>();
  private server!: http.Server;
  private port = 0;

  constructor(private readonly tls?: { key: string; cert: string }) {}

  async start(): Promise<void> {
    const handler: http.RequestListener = (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const r: Received = {
          path: url.pathname,
          query: url.searchParams,
          contentType: req.headers['content-type'],
          body,
          at: Date.now(),
        };
        this.received.push(r);
        const answer = this.answer(r);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    };
    this.server = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  url(path: string): string {
    return this.tls ? `https://localhost:${this.port}${path}` : `http://127.0.0.1:${this.port}${path}`;
  }

  /** how to answer the notifications (not the handshakes) to `path`; `nth` counts from 1 */
  on(path: string, answer: (r: Received, nth: number) => Answer): void {
    this.answers.set(path, answer);
  }

  handshakes(path: string): Received[] {
    return this.received.filter((r) => r.path === path && r.query.has('validationToken'));
  }

  posts(path: string): Received[] {
    return this.received.filter((r) => r.path === path && !r.query.has('validationToken'));
  }

  items<T = Record<string, unknown>>(path: string): T[] {
    return this.posts(path).flatMap((r) => (JSON.parse(r.body) as { value: T[] }).value);
  }

  private answer(r: Received): Answer {
    const token = r.query.get('validationToken');
    if (token !== null) {
      const custom = this.answers.get(`${r.path}#handshake`);
      return custom ? custom(r, 0) : { status: 200, body: token };
    }
    const custom = this.answers.get(r.path);
    return custom ? custom(r, this.posts(r.path).length) : { status: 202 };
  }
}

interface GraphReply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

type GraphCall = (method: string, path: string, body?: unknown) => Promise<GraphReply>;

interface ChangeItem {
  id: string;
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  changeType: string;
  resource: string;
  tenantId: string;
  clientState: string | null;
  resourceData: Record<string, string>;
}

interface Delivery {
  kind: string;
  url: string;
  status: number;
  attempt: number;
  outcome: string;
  latencyMs: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const inMinutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
const until = (what: string, cond: () => boolean, timeoutMs = 10_000) =>
  waitFor(() => Promise.resolve(cond() ? true : undefined), { timeoutMs, intervalMs: 25, what });

describe('outlook emulator: webhook subscriptions end to end', () => {
  let emu: RunningEmulator;
  const receiver = new Receiver();
  let mailboxNo = 0;

  /** a fresh mailbox with a token for it, so tests never see each other's notifications */
  async function mailbox(
    on: RunningEmulator = emu,
  ): Promise<{ address: string; userId: string; graph: GraphCall }> {
    const address = `hooks${++mailboxNo}@contoso.example`;
    await on.admin('POST', '/_emulator/mailboxes', { address, displayName: `Hooks ${mailboxNo}` });
    const { access_token } = await on.admin<{ access_token: string }>('POST', '/_emulator/tokens', {
      address,
    });
    const { userId } = await on.admin<{ userId: string }>('GET', `/_emulator/mailboxes/${address}/export`);
    const graph: GraphCall = (method, path, body) => graphAs(on.origin, access_token, method, path, body);
    return { address, userId, graph };
  }

  async function graphAs(
    origin: string,
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<GraphReply> {
    const res = await fetch(`${origin}/v1.0/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as GraphReply['body']) : {} };
  }

  const subscriptionBody = (
    path: string,
    overrides: Record<string, unknown> = {},
    to: Receiver = receiver,
  ) => ({
    changeType: 'created,updated,deleted',
    notificationUrl: to.url(path),
    lifecycleNotificationUrl: to.url(`${path}/lifecycle`),
    resource: "me/mailFolders('Inbox')/messages",
    expirationDateTime: inMinutes(60),
    clientState: `state-for-${path}`,
    ...overrides,
  });

  const newMail = (address: string, subject: string, on: RunningEmulator = emu) =>
    on.admin<{ id: string; changeKey: string }>('POST', `/_emulator/mailboxes/${address}/messages`, {
      subject,
    });

  /** the change-notification attempts to a URL, as the stats recorded them (handshakes are recorded apart) */
  const deliveries = async (url: string): Promise<Delivery[]> => {
    const stats = await emu.admin<{ notifications: { recent: Delivery[] } }>('GET', '/_emulator/stats');
    return stats.notifications.recent.filter((d) => d.kind === 'change' && d.url === url);
  };

  beforeAll(async () => {
    await receiver.start();
    emu = await startEmulator({
      EMULATOR_NOTIFY_RETRY_BASE_MS: '200',
      EMULATOR_NOTIFY_RETRY_MAX_MS: '1000',
      EMULATOR_NOTIFY_MAX_ATTEMPTS: '4',
      // wide enough that three admin calls in a row always land in one batch
      EMULATOR_NOTIFY_BATCH_WINDOW_MS: '300',
    });
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    await receiver.stop();
  });

  it('(a) validates the endpoint with a text/plain handshake, then answers 201 with the subscription', async () => {
    const { graph, userId } = await mailbox();
    const body = subscriptionBody('/a', { notificationUrl: `${receiver.url('/a')}?route=a%20b` });
    const res = await graph('POST', 'subscriptions', body);

    expect(res.status).toBe(201);
    const { id, ...rest } = res.body;
    expect(id).toMatch(GUID);
    expect(rest).toEqual({
      '@odata.context': `${emu.origin}/v1.0/$metadata#subscriptions/$entity`,
      resource: "me/mailFolders('Inbox')/messages",
      applicationId: emu.clientId,
      changeType: 'created,updated,deleted',
      clientState: 'state-for-/a',
      notificationUrl: `${receiver.url('/a')}?route=a%20b`,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: receiver.url('/a/lifecycle'),
      expirationDateTime: body.expirationDateTime,
      creatorId: userId,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
      notificationContentType: null,
    });

    const [handshake] = receiver.handshakes('/a');
    expect(handshake).toMatchObject({ contentType: 'text/plain; charset=utf-8', body: '' });
    expect(handshake.query.get('route')).toBe('a b');
    expect(handshake.query.get('validationToken')).toMatch(/^Validation: .+ Request-Id: [0-9a-f-]{36}$/);
    expect(receiver.handshakes('/a/lifecycle')).toHaveLength(1);

    const listed = await graph('GET', 'subscriptions');
    expect(listed.body.value).toEqual([expect.objectContaining({ id, clientState: 'state-for-/a' })]);
    expect((await graph('GET', `subscriptions/${String(id)}`)).body).toEqual(res.body);
  });

  it('(b) delivers new mail as one batched JSON POST with clientState and the documented items', async () => {
    const { graph, address, userId } = await mailbox();
    const sub = (await graph('POST', 'subscriptions', subscriptionBody('/b'))).body;
    const mails = [];
    for (const subject of ['one', 'two', 'three']) mails.push(await newMail(address, subject));

    await until('three notifications on /b', () => receiver.items('/b').length >= 3);
    expect(receiver.posts('/b')).toHaveLength(1);
    expect(receiver.posts('/b')[0].contentType).toBe('application/json');
    const items = receiver.items<ChangeItem>('/b');
    expect(items.map((i) => i.resourceData.id)).toEqual(mails.map((m) => m.id));
    const first = items[0];
    const resource = `Users/${userId}/Messages/${mails[0].id}`;
    expect(first.id).toMatch(GUID);
    expect(first).toEqual({
      id: first.id,
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      changeType: 'created',
      resource,
      tenantId: expect.stringMatching(GUID) as unknown,
      clientState: 'state-for-/b',
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': resource,
        '@odata.etag': `W/"${mails[0].changeKey}"`,
        id: mails[0].id,
      },
    });

    // the id in the notification is one the client can fetch
    expect((await graph('GET', `me/messages/${first.resourceData.id}`)).body).toMatchObject({
      subject: 'one',
    });
    const admin = await emu.admin<{ value: { id: string; delivered: number; state: string }[] }>(
      'GET',
      '/_emulator/subscriptions',
    );
    expect(admin.value.find((s) => s.id === sub.id)).toMatchObject({ delivered: 3, state: 'active' });
  });

  it('(c) retries a receiver that answers 500, with backoff, until it takes the notification', async () => {
    const { graph, address } = await mailbox();
    receiver.on('/c', (_r, nth) => ({ status: nth === 1 ? 500 : 202 }));
    await graph('POST', 'subscriptions', subscriptionBody('/c'));
    await newMail(address, 'retry me');

    await until('the retry on /c', () => receiver.posts('/c').length >= 2);
    const [failed, retried] = receiver.posts('/c');
    expect(retried.body).toBe(failed.body);
    expect(retried.at - failed.at).toBeGreaterThanOrEqual(180);
    const attempts = await waitFor(
      async () => {
        const d = await deliveries(receiver.url('/c'));
        return d.length >= 2 ? d : undefined;
      },
      { timeoutMs: 5000, what: 'both attempts in the stats' },
    );
    expect(attempts.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 202, 'delivered'],
    ]);
  });

  it('(d) gives up on a receiver slower than 3 s and retries it', async () => {
    const { graph, address } = await mailbox();
    receiver.on('/d', (_r, nth) => (nth === 1 ? { status: 202, delayMs: 4000 } : { status: 202 }));
    await graph('POST', 'subscriptions', subscriptionBody('/d'));
    await newMail(address, 'slow receiver');

    await until('the retry on /d', () => receiver.posts('/d').length >= 2, 15_000);
    const [slow, retried] = receiver.posts('/d');
    expect(retried.body).toBe(slow.body);
    // aborted at 3 s, then the 200 ms backoff
    expect(retried.at - slow.at).toBeGreaterThanOrEqual(3000);
    const attempts = await waitFor(
      async () => {
        const d = await deliveries(receiver.url('/d'));
        return d.length >= 2 ? d : undefined;
      },
      { timeoutMs: 5000, what: 'both attempts in the stats' },
    );
    expect(attempts.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 0, 'slow'],
      [2, 202, 'delivered'],
    ]);
    expect(attempts[0].latencyMs).toBeGreaterThanOrEqual(2900);
  }, 30_000);

  it('(e) sends missed, reauthorizationRequired and subscriptionRemoved to the lifecycle URL', async () => {
    const { graph } = await mailbox();
    const sub = (await graph('POST', 'subscriptions', subscriptionBody('/e'))).body;
    const id = String(sub.id);
    const fire = (event: string) =>
      emu.admin<{ sent: boolean }>('POST', `/_emulator/subscriptions/${id}/lifecycle`, { event });
    const stateOf = async () =>
      (
        await emu.admin<{ value: { id: string; state: string }[] }>('GET', '/_emulator/subscriptions')
      ).value.find((s) => s.id === id)?.state;

    await expect(fire('missed')).resolves.toMatchObject({ sent: true, lifecycleEvent: 'missed' });
    await until('missed', () => receiver.items('/e/lifecycle').length === 1);
    await fire('reauthorizationRequired');
    await until('reauthorizationRequired', () => receiver.items('/e/lifecycle').length === 2);
    expect(await stateOf()).toBe('reauthorizationRequired');
    expect((await graph('POST', `subscriptions/${id}/reauthorize`)).status).toBe(204);
    expect(await stateOf()).toBe('active');
    await fire('subscriptionRemoved');
    await until('subscriptionRemoved', () => receiver.items('/e/lifecycle').length === 3);

    expect(receiver.posts('/e/lifecycle').every((r) => r.contentType === 'application/json')).toBe(true);
    expect(receiver.items('/e/lifecycle')).toEqual(
      ['missed', 'reauthorizationRequired', 'subscriptionRemoved'].map((lifecycleEvent) => ({
        subscriptionId: id,
        subscriptionExpirationDateTime: sub.expirationDateTime,
        tenantId: expect.stringMatching(GUID) as unknown,
        clientState: 'state-for-/e',
        lifecycleEvent,
      })),
    );
    expect((await graph('GET', `subscriptions/${id}`)).status).toBe(404);
    expect(await stateOf()).toBeUndefined();
    await expect(fire('missed')).rejects.toThrow(/404/);
    await expect(fire('bogus')).rejects.toThrow(/400/);
  });

  it('(f) refuses to create a subscription whose endpoint fails the handshake, with the real 400', async () => {
    const { graph } = await mailbox();
    receiver.on('/f#handshake', () => ({ status: 200, body: 'not the token' }));
    const res = await graph(
      'POST',
      'subscriptions',
      subscriptionBody('/f', { lifecycleNotificationUrl: undefined }),
    );

    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'InvalidRequest',
      message:
        'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    });
    expect(receiver.handshakes('/f')).toHaveLength(1);
    expect((await graph('GET', 'subscriptions')).body.value).toEqual([]);

    // a lifecycle endpoint that fails fails the whole creation too
    receiver.on('/f2/lifecycle#handshake', () => ({ status: 404 }));
    expect((await graph('POST', 'subscriptions', subscriptionBody('/f2'))).body.error?.code).toBe(
      'InvalidRequest',
    );
    expect((await graph('GET', 'subscriptions')).body.value).toEqual([]);
  });

  it('(g) refuses an expiry beyond the cap with ExtensionError', async () => {
    const { graph } = await mailbox();
    const res = await graph(
      'POST',
      'subscriptions',
      subscriptionBody('/g', { expirationDateTime: inMinutes(4231) }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'ExtensionError',
      message: 'Subscription expiration can only be 4230 minutes in the future.',
    });
    expect(receiver.handshakes('/g')).toHaveLength(0);
    const plain = await graph(
      'POST',
      'subscriptions',
      subscriptionBody('/g', { notificationUrl: 'http://example.com/x' }),
    );
    expect(plain.status).toBe(400);
  });

  it('(h) renews with PATCH under the same cap, and DELETE stops the deliveries', async () => {
    const { graph, address } = await mailbox();
    const id = String((await graph('POST', 'subscriptions', subscriptionBody('/h'))).body.id);

    const later = inMinutes(4000);
    const renewed = await graph('PATCH', `subscriptions/${id}`, { expirationDateTime: later });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ id, expirationDateTime: later });
    expect((await graph('GET', `subscriptions/${id}`)).body.expirationDateTime).toBe(later);
    const tooFar = await graph('PATCH', `subscriptions/${id}`, { expirationDateTime: inMinutes(5000) });
    expect(tooFar.body.error?.code).toBe('ExtensionError');
    const unknown = await graph('PATCH', 'subscriptions/00000000-0000-4000-8000-000000000000', {
      expirationDateTime: later,
    });
    expect(unknown.status).toBe(404);

    await newMail(address, 'before delete');
    await until('the delivery before the delete', () => receiver.items('/h').length === 1);
    expect(await graph('DELETE', `subscriptions/${id}`)).toEqual({ status: 204, body: {} });
    expect((await graph('GET', `subscriptions/${id}`)).status).toBe(404);
    expect((await graph('DELETE', `subscriptions/${id}`)).status).toBe(404);

    // a second subscription on the same mailbox is the barrier: once it has the new mail, so would /h have
    await graph('POST', 'subscriptions', subscriptionBody('/h-barrier'));
    await newMail(address, 'after delete');
    await until('the barrier delivery', () => receiver.items('/h-barrier').length === 1);
    expect(receiver.items('/h')).toHaveLength(1);
  });

  describe('in strict mode, with an https receiver', () => {
    let strict: RunningEmulator;
    const certs = ensureCertificates({ certDir: defaultCertDir(), hostnames: ['localhost', '127.0.0.1'] });
    const secure = new Receiver({ key: certs.key, cert: certs.cert });

    beforeAll(async () => {
      await secure.start();
      strict = await startEmulator({ EMULATOR_STRICT_NOTIFICATION_URLS: 'true' });
    }, 60_000);

    afterAll(async () => {
      await strict?.stop();
      await secure.stop();
    });

    it('(i) refuses http even on loopback, and delivers to https verified through the emulator CA', async () => {
      const { graph, address } = await mailbox(strict);
      const refused = await graph('POST', 'subscriptions', subscriptionBody('/i'));
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: 'InvalidRequest',
        message: 'notificationUrl must use https.',
      });
      expect(receiver.handshakes('/i')).toHaveLength(0);

      const created = await graph('POST', 'subscriptions', subscriptionBody('/i', {}, secure));
      expect(created.status).toBe(201);
      expect(secure.handshakes('/i')).toHaveLength(1);
      await newMail(address, 'over https', strict);
      await until('the https delivery', () => secure.items('/i').length === 1);
      expect(secure.items<ChangeItem>('/i')[0]).toMatchObject({
        subscriptionId: created.body.id,
        changeType: 'created',
      });
    });
  });

  it('(j) takes notification faults and lifecycle events from /_emulator/faults, and forgets all on reset', async () => {
    const { graph, address } = await mailbox();
    const id = String((await graph('POST', 'subscriptions', subscriptionBody('/j'))).body.id);
    try {
      await emu.admin('POST', '/_emulator/faults', { notifications: { duplicate: 1 } });
      await newMail(address, 'twice');
      await until('the duplicate', () => receiver.items('/j').length === 2);
      const [once, again] = receiver.items<ChangeItem>('/j');
      expect(again).toEqual(once);
      expect(receiver.posts('/j')).toHaveLength(2);
    } finally {
      await emu.admin('POST', '/_emulator/faults', { notifications: { duplicate: 0 } });
    }

    await emu.admin('POST', '/_emulator/faults', { lifecycle: { subscriptionId: id, event: 'missed' } });
    await until('missed', () => receiver.items('/j/lifecycle').length === 1);
    expect(receiver.items('/j/lifecycle')[0]).toMatchObject({ subscriptionId: id, lifecycleEvent: 'missed' });

    await emu.admin('POST', '/_emulator/reset');
    expect((await emu.admin<{ value: unknown[] }>('GET', '/_emulator/subscriptions')).value).toEqual([]);
  });
});
