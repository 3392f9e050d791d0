import { GraphSubscriptionsClient, SubscriptionExpiryRejectedError } from './graph-subscriptions-client';
import { KeyedSemaphore } from './keyed-semaphore';
import { GraphRequestError } from './types';

const BASE = 'https://graph.test:8443';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const graphError = (status: number, code: string, message: string) =>
  json(status, { error: { code, message } });

const raw = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  resource: 'me/messages',
  changeType: 'created,updated,deleted',
  notificationUrl: 'https://hooks.example/api/v1/graph/notifications',
  lifecycleNotificationUrl: 'https://hooks.example/api/v1/graph/lifecycle',
  expirationDateTime: '2026-11-25T00:00:00.000Z',
  clientState: null,
  ...extra,
});

function client(respond: (call: Call, n: number) => Response) {
  const calls: Call[] = [];
  const subs = GraphSubscriptionsClient.create({
    graphBaseUrl: BASE,
    mailboxKey: 'acct-1',
    limiter: new KeyedSemaphore(4),
    getAccessToken: () => Promise.resolve('token-1'),
    fetch: (input, init) => {
      const call: Call = {
        url: input,
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        ),
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      return Promise.resolve(respond(call, calls.length));
    },
    sleep: () => Promise.resolve(),
  });
  return { subs, calls };
}

describe('GraphSubscriptionsClient', () => {
  it('lists every page of the subscriptions', async () => {
    const { subs, calls } = client((_c, n) =>
      n === 1
        ? json(200, { value: [raw('s1')], '@odata.nextLink': `${BASE}/v1.0/subscriptions?$skiptoken=2` })
        : json(200, { value: [raw('s2', { lifecycleNotificationUrl: null })] }),
    );
    const listed = await subs.list();
    expect(listed.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(listed[0].expirationDateTime).toEqual(new Date('2026-11-25T00:00:00.000Z'));
    expect(listed[1].lifecycleNotificationUrl).toBeNull();
    expect(calls.map((c) => c.url)).toEqual([
      `${BASE}/v1.0/subscriptions`,
      `${BASE}/v1.0/subscriptions?$skiptoken=2`,
    ]);
  });

  it('creates with Prefer: IdType="ImmutableId", the bearer token and the whole body', async () => {
    const { subs, calls } = client(() => json(201, raw('s1')));
    const expires = new Date('2026-11-24T12:00:00.000Z');
    const created = await subs.create({
      resource: 'me/messages',
      changeType: 'created,updated,deleted',
      notificationUrl: 'https://hooks.example/api/v1/graph/notifications',
      lifecycleNotificationUrl: 'https://hooks.example/api/v1/graph/lifecycle',
      clientState: 'state-1',
      expirationDateTime: expires,
    });
    expect(created.id).toBe('s1');
    expect(calls[0].method).toBe('POST');
    expect(calls[0].url).toBe(`${BASE}/v1.0/subscriptions`);
    expect(calls[0].headers.prefer).toBe('IdType="ImmutableId"');
    expect(calls[0].headers.authorization).toBe('Bearer token-1');
    expect(calls[0].body).toEqual({
      changeType: 'created,updated,deleted',
      notificationUrl: 'https://hooks.example/api/v1/graph/notifications',
      lifecycleNotificationUrl: 'https://hooks.example/api/v1/graph/lifecycle',
      resource: 'me/messages',
      expirationDateTime: expires.toISOString(),
      clientState: 'state-1',
    });
  });

  it('turns an expiry beyond the cap into SubscriptionExpiryRejectedError with the cap it states', async () => {
    const { subs } = client(() =>
      graphError(400, 'ExtensionError', 'Subscription expiration can only be 4230 minutes in the future.'),
    );
    const err = await subs
      .create({
        resource: 'me/messages',
        changeType: 'created',
        notificationUrl: 'https://h/n',
        lifecycleNotificationUrl: 'https://h/l',
        clientState: 's',
        expirationDateTime: new Date(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubscriptionExpiryRejectedError);
    expect((err as SubscriptionExpiryRejectedError).maxMinutes).toBe(4230);

    const renewing = client(() => graphError(400, 'ExtensionError', 'Subscription expiration is too far.'));
    const onRenew = await renewing.subs.renew('s1', new Date()).catch((e: unknown) => e);
    expect(onRenew).toBeInstanceOf(SubscriptionExpiryRejectedError);
    expect((onRenew as SubscriptionExpiryRejectedError).maxMinutes).toBeUndefined();
  });

  it('leaves other 400s as GraphRequestError (a failed validation handshake, say)', async () => {
    const { subs } = client(() =>
      graphError(400, 'InvalidRequest', 'Subscription validation request failed.'),
    );
    const err = await subs
      .create({
        resource: 'me/messages',
        changeType: 'created',
        notificationUrl: 'https://h/n',
        lifecycleNotificationUrl: 'https://h/l',
        clientState: 's',
        expirationDateTime: new Date(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphRequestError);
    expect(err).not.toBeInstanceOf(SubscriptionExpiryRejectedError);
  });

  it('renews with PATCH {expirationDateTime}; a subscription Graph no longer has renews to null', async () => {
    const { subs, calls } = client((_c, n) =>
      n === 1 ? json(200, raw('s1')) : graphError(404, 'ResourceNotFound', 'The object was not found.'),
    );
    const at = new Date('2026-11-25T00:00:00.000Z');
    expect((await subs.renew('s1', at))?.id).toBe('s1');
    expect(calls[0].method).toBe('PATCH');
    expect(calls[0].url).toBe(`${BASE}/v1.0/subscriptions/s1`);
    expect(calls[0].body).toEqual({ expirationDateTime: at.toISOString() });
    await expect(subs.renew('gone', at)).resolves.toBeNull();
  });

  it('deletes; an already deleted one answers false, other failures throw', async () => {
    const { subs, calls } = client((_c, n) =>
      n === 1
        ? new Response(null, { status: 204 })
        : n === 2
          ? graphError(404, 'ResourceNotFound', 'gone')
          : graphError(403, 'ErrorAccessDenied', 'no'),
    );
    await expect(subs.delete('s1')).resolves.toBe(true);
    expect(calls[0].method).toBe('DELETE');
    await expect(subs.delete('s1')).resolves.toBe(false);
    await expect(subs.delete('s1')).rejects.toBeInstanceOf(GraphRequestError);
  });
});
