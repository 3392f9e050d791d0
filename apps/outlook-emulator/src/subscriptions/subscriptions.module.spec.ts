import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { EmulatorConfig } from '@email-core/config';
import { waitFor } from '@email-core/testing';
import { CoreModule } from '../core.module';
import { AdminHooks } from '../faults/admin-hooks';
import { GraphError } from '../graph/graph-error';
import { GraphRouter, type GraphResponse } from '../graph/graph-router';
import type { AccessClaims } from '../identity/access-claims';
import { MailboxStore } from '../store/mailbox-store';
import type { Mailbox } from '../store/model';
import type { ChangeNotificationItem } from './domain/notification-payloads';
import { SubscriptionRepository } from './domain/subscription.repository';
import { WebhookClient, type WebhookRequest, type WebhookResponse } from './delivery/webhook-client';
import { EXPIRED_RETENTION_MS, ExpiryWatch } from './expiry-watch';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './subscription-settings';
import { SubscriptionsModule } from './subscriptions.module';
import { SubscriptionsService } from './subscriptions.service';
import { echoValidationToken, fakeWebhookClient, settingsFactory } from './testing/subscription.factory';

const ORIGIN = 'https://localhost:8443';
const HOOK = 'http://127.0.0.1:9/hook?tenant=t1';
const LIFECYCLE = 'http://localhost:9/lifecycle';
const inMinutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

describe('SubscriptionsModule (Graph routes, delivery and lifecycle through Nest DI)', () => {
  let mod: TestingModule;
  let router: GraphRouter;
  let store: MailboxStore;
  let mailbox: Mailbox;
  let client: ReturnType<typeof fakeWebhookClient>;
  let respond: (req: WebhookRequest) => Partial<WebhookResponse>;
  let settings: SubscriptionSettings;

  const claimsFor = (m: Mailbox, appId = 'app-1'): AccessClaims => ({
    address: m.address,
    userId: m.userId,
    tenantId: m.tenantId,
    appId,
    scopes: ['Mail.Read'],
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  });

  /** one Graph request through the registered route, errors shaped as `{status, code, message}` */
  async function graph(
    method: string,
    path: string,
    body?: unknown,
    appId = 'app-1',
    headers: Record<string, string> = {},
  ) {
    const match = router.match(method, path);
    if (typeof match !== 'object') throw new Error(`no route for ${method} ${path}`);
    try {
      const res: GraphResponse = await match.route.handler({
        req: { method, path, query: new URLSearchParams(), headers, body },
        claims: claimsFor(mailbox, appId),
        mailbox,
        origin: ORIGIN,
        userPrefix: match.userPrefix,
        params: match.params,
      });
      return { status: res.status, body: res.body as Record<string, unknown> };
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      return { status: err.status, body: { code: err.code, message: err.message } };
    }
  }

  const createBody = (overrides: Record<string, unknown> = {}) => ({
    changeType: 'created,updated,deleted',
    notificationUrl: HOOK,
    lifecycleNotificationUrl: LIFECYCLE,
    resource: 'me/messages',
    expirationDateTime: inMinutes(60),
    clientState: 'client-secret',
    ...overrides,
  });

  /** polls a condition (the deliveries are real async work, only the receiver is fake) */
  const until = (what: string, cond: () => boolean, timeoutMs = 2000) =>
    waitFor(() => Promise.resolve(cond() ? true : undefined), { timeoutMs, intervalMs: 10, what });

  const posts = (url: string) => client.requests.filter((r) => r.url === url);
  const items = (url: string) =>
    posts(url).flatMap((r) => (r.json as { value: ChangeNotificationItem[] }).value);

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    respond = echoValidationToken;
    client = fakeWebhookClient((req) => respond(req));
    settings = settingsFactory({ batchWindowMs: 10, retryBaseMs: 20, retryMaxMs: 100, maxAttempts: 3 });
    mod = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot({ throttling: false, subscriptionMaxMinutes: 4230 } as EmulatorConfig),
        SubscriptionsModule,
      ],
    })
      .overrideProvider(WebhookClient)
      .useValue(client)
      .overrideProvider(SUBSCRIPTION_SETTINGS)
      .useValue(settings)
      .compile();
    await mod.init();
    router = mod.get(GraphRouter);
    store = mod.get(MailboxStore);
    mailbox = store.createMailbox({ address: 'ada@example.com' });
  });

  afterEach(async () => {
    await mod.close();
  });

  it('registers the routes at the root with the mail read scopes, outside Outlook throttling', () => {
    for (const [method, path] of [
      ['POST', 'subscriptions'],
      ['GET', 'subscriptions'],
      ['GET', 'subscriptions/x'],
      ['PATCH', 'subscriptions/x'],
      ['DELETE', 'subscriptions/x'],
      ['POST', 'subscriptions/x/reauthorize'],
    ] as const) {
      const match = router.match(method, path);
      expect(match).toMatchObject({
        route: { options: { scopes: ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'], throttled: false } },
      });
    }
  });

  describe('POST /subscriptions', () => {
    it('validates both endpoints, then answers 201 with the documented subscription', async () => {
      const expirationDateTime = inMinutes(60);
      const res = await graph('POST', 'subscriptions', createBody({ expirationDateTime }));
      expect(res.status).toBe(201);
      const { id, ...rest } = res.body;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(rest).toEqual({
        '@odata.context': `${ORIGIN}/v1.0/$metadata#subscriptions/$entity`,
        resource: 'me/messages',
        applicationId: 'app-1',
        changeType: 'created,updated,deleted',
        clientState: 'client-secret',
        notificationUrl: HOOK,
        notificationQueryOptions: null,
        lifecycleNotificationUrl: LIFECYCLE,
        expirationDateTime,
        creatorId: mailbox.userId,
        includeResourceData: false,
        latestSupportedTlsVersion: 'v1_2',
        encryptionCertificate: null,
        encryptionCertificateId: null,
        notificationUrlAppId: null,
        notificationContentType: null,
      });
      const handshakes = client.requests.map((r) => new URL(r.url));
      expect(handshakes.map((u) => `${u.origin}${u.pathname}`).sort()).toEqual([
        'http://127.0.0.1:9/hook',
        'http://localhost:9/lifecycle',
      ]);
      expect(handshakes.find((u) => u.pathname === '/hook')!.searchParams.get('tenant')).toBe('t1');
    });

    it('fails with the real 400 and creates nothing when an endpoint does not echo the token', async () => {
      respond = (req) =>
        req.url.startsWith(LIFECYCLE) ? { status: 200, body: 'wrong' } : echoValidationToken(req);
      const res = await graph('POST', 'subscriptions', createBody());
      expect(res).toEqual({
        status: 400,
        body: {
          code: 'InvalidRequest',
          message:
            'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        },
      });
      expect((await graph('GET', 'subscriptions')).body.value).toEqual([]);
      expect(mod.get(SubscriptionsService).list()).toEqual([]);
    });

    it('refuses an expiry beyond the cap without calling the endpoint', async () => {
      const res = await graph('POST', 'subscriptions', createBody({ expirationDateTime: inMinutes(4231) }));
      expect(res).toEqual({
        status: 400,
        body: {
          code: 'ExtensionError',
          message: 'Subscription expiration can only be 4230 minutes in the future.',
        },
      });
      expect(client.requests).toHaveLength(0);
    });

    it("refuses another user's mailbox and an unknown folder; takes the caller's own by id or address", async () => {
      const other = store.createMailbox({ address: 'bob@example.com' });
      expect(
        (await graph('POST', 'subscriptions', createBody({ resource: `users/${other.userId}/messages` })))
          .body,
      ).toEqual({ code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
      expect(
        (await graph('POST', 'subscriptions', createBody({ resource: 'users/nobody@example.com/messages' })))
          .status,
      ).toBe(403);
      expect(
        (await graph('POST', 'subscriptions', createBody({ resource: "me/mailFolders('nope')/messages" })))
          .status,
      ).toBe(404);
      expect(
        (await graph('POST', 'subscriptions', createBody({ resource: `/users/${mailbox.userId}/messages` })))
          .status,
      ).toBe(201);
      expect(
        (await graph('POST', 'subscriptions', createBody({ resource: `users/ADA@example.com/messages` })))
          .status,
      ).toBe(201);
    });

    it('allows at most the configured number of active subscriptions per mailbox, across apps', async () => {
      settings.maxPerMailbox = 2;
      expect((await graph('POST', 'subscriptions', createBody(), 'app-1')).status).toBe(201);
      expect((await graph('POST', 'subscriptions', createBody(), 'app-2')).status).toBe(201);
      expect((await graph('POST', 'subscriptions', createBody(), 'app-1')).status).toBe(403);
    });
  });

  describe('GET, PATCH, reauthorize and DELETE', () => {
    it("lists and gets the calling app's subscriptions only", async () => {
      const mine = (await graph('POST', 'subscriptions', createBody())).body;
      await graph('POST', 'subscriptions', createBody(), 'app-2');
      const list = await graph('GET', 'subscriptions');
      expect(list.body['@odata.context']).toBe(`${ORIGIN}/v1.0/$metadata#subscriptions`);
      expect(list.body.value).toEqual(
        [{ ...mine, '@odata.context': undefined }].map(({ ['@odata.context']: _, ...s }) => s),
      );
      expect((await graph('GET', `subscriptions/${String(mine.id)}`)).body).toEqual(mine);
      expect((await graph('GET', `subscriptions/${String(mine.id)}`, undefined, 'app-2')).body).toEqual({
        code: 'ResourceNotFound',
        message: 'The object was not found.',
      });
    });

    it('renews under the same cap, and 404s an unknown id', async () => {
      const { id } = (await graph('POST', 'subscriptions', createBody())).body;
      const later = inMinutes(4000);
      const renewed = await graph('PATCH', `subscriptions/${String(id)}`, { expirationDateTime: later });
      expect(renewed.status).toBe(200);
      expect(renewed.body).toMatchObject({ id, expirationDateTime: later });
      expect(
        (await graph('PATCH', `subscriptions/${String(id)}`, { expirationDateTime: inMinutes(5000) })).body
          .code,
      ).toBe('ExtensionError');
      expect((await graph('PATCH', 'subscriptions/unknown', { expirationDateTime: later })).status).toBe(404);
    });

    it('clears a pending reauthorization with /reauthorize (204)', async () => {
      const id = String((await graph('POST', 'subscriptions', createBody())).body.id);
      const service = mod.get(SubscriptionsService);
      expect(service.fireLifecycle(id, 'reauthorizationRequired')).toEqual({
        subscriptionId: id,
        lifecycleEvent: 'reauthorizationRequired',
        sent: true,
      });
      expect(service.list()[0].state).toBe('reauthorizationRequired');
      expect(await graph('POST', `subscriptions/${id}/reauthorize`)).toEqual({
        status: 204,
        body: undefined,
      });
      expect(service.list()[0].state).toBe('active');
      expect((await graph('POST', 'subscriptions/unknown/reauthorize')).status).toBe(404);
    });

    it('deletes (204), after which the subscription is gone and delivers nothing', async () => {
      const id = String((await graph('POST', 'subscriptions', createBody())).body.id);
      expect(await graph('DELETE', `subscriptions/${id}`)).toEqual({ status: 204, body: undefined });
      expect((await graph('GET', `subscriptions/${id}`)).status).toBe(404);
      expect((await graph('DELETE', `subscriptions/${id}`)).status).toBe(404);
      store.createMessage(store.resolveFolder(mailbox, 'inbox')!, { subject: 'x' });
      await new Promise((r) => setTimeout(r, 50));
      expect(posts(HOOK)).toHaveLength(0);
    });
  });

  describe('delivery', () => {
    it('batches the changes of every matching subscription on one URL into one POST', async () => {
      const inboxSub = (
        await graph('POST', 'subscriptions', createBody({ resource: "me/mailFolders('Inbox')/messages" }))
      ).body;
      const allSub = (await graph('POST', 'subscriptions', createBody({ changeType: 'created' }))).body;
      const inbox = store.resolveFolder(mailbox, 'inbox')!;
      const msg = store.createMessage(inbox, { subject: 'hello' });
      await until('a delivery', () => posts(HOOK).length > 0, 2000);
      expect(posts(HOOK)).toHaveLength(1);
      expect(posts(HOOK)[0].contentType).toBe('application/json');
      const delivered = items(HOOK);
      expect(delivered.map((i) => i.subscriptionId).sort()).toEqual([inboxSub.id, allSub.id].sort());
      expect(delivered[0]).toMatchObject({
        changeType: 'created',
        clientState: 'client-secret',
        resource: `Users/${mailbox.userId}/Messages/${msg.id}`,
        tenantId: mailbox.tenantId,
      });

      store.createMessage(store.resolveFolder(mailbox, 'archive')!, {});
      store.updateMessage(msg, { isRead: true });
      await until('a 2nd delivery', () => posts(HOOK).length === 2, 2000);
      const second = (posts(HOOK)[1].json as { value: ChangeNotificationItem[] }).value;
      // the archive mail reaches only the mailbox-wide subscription; the update only the inbox one (it asked for it)
      expect(second.map((i) => [i.subscriptionId, i.changeType])).toEqual([
        [allSub.id, 'created'],
        [inboxSub.id, 'updated'],
      ]);
      await until('delivered counts', () =>
        mod
          .get(SubscriptionsService)
          .list()
          .every((s) => s.delivered === 2),
      );
    });

    it('names messages by immutable id for a subscription created with Prefer: IdType="ImmutableId"', async () => {
      const immutable = (
        await graph('POST', 'subscriptions', createBody(), 'app-1', { prefer: 'IdType="ImmutableId"' })
      ).body;
      const regular = (await graph('POST', 'subscriptions', createBody())).body;
      const msg = store.createMessage(store.resolveFolder(mailbox, 'inbox')!, { subject: 'hello' });
      const regularIdBefore = msg.id;
      store.moveMessage(msg, store.resolveFolder(mailbox, 'archive')!);
      expect(msg.id).not.toBe(regularIdBefore);
      await until('three changes for each subscription', () => items(HOOK).length === 6, 2000);
      const seen = (sub: Record<string, unknown>) =>
        items(HOOK)
          .filter((i) => i.subscriptionId === sub.id)
          .map((i) => [i.changeType, i.resource, i.resourceData.id, i.resourceData['@odata.id']]);
      const at = (id: string) => `Users/${mailbox.userId}/Messages/${id}`;
      // created, then the move: deleted in the folder it left, created in the one it reached
      const immutableId = msg.immutableId;
      expect(seen(immutable)).toEqual(
        ['created', 'deleted', 'created'].map((kind) => [
          kind,
          at(immutableId),
          immutableId,
          at(immutableId),
        ]),
      );
      expect(seen(regular)).toEqual([
        ['created', at(regularIdBefore), regularIdBefore, at(regularIdBefore)],
        ['deleted', at(regularIdBefore), regularIdBefore, at(regularIdBefore)],
        ['created', at(msg.id), msg.id, at(msg.id)],
      ]);
    });

    it('stops delivering once a subscription expires, and hides it from GET', async () => {
      const id = String((await graph('POST', 'subscriptions', createBody())).body.id);
      mod.get(SubscriptionRepository).get(id)!.expiresAt = Date.now() - 1;
      store.createMessage(store.resolveFolder(mailbox, 'inbox')!, {});
      await new Promise((r) => setTimeout(r, 50));
      expect(posts(HOOK)).toHaveLength(0);
      expect((await graph('GET', 'subscriptions')).body.value).toEqual([]);
      expect((await graph('GET', `subscriptions/${id}`)).status).toBe(404);
      expect(mod.get(SubscriptionsService).list()).toEqual([
        expect.objectContaining({ id, state: 'expired' }),
      ]);
    });

    it('raises `missed` when it gives up on a change notification', async () => {
      const created = (await graph('POST', 'subscriptions', createBody())).body;
      respond = (req) => (req.url === HOOK ? { status: 500 } : { status: 202 });
      store.createMessage(store.resolveFolder(mailbox, 'inbox')!, {});
      await until('missed', () => posts(LIFECYCLE).length > 0, 3000);
      expect(posts(HOOK)).toHaveLength(3);
      expect(posts(LIFECYCLE)[0].json).toEqual({
        value: [
          {
            subscriptionId: created.id,
            subscriptionExpirationDateTime: created.expirationDateTime,
            tenantId: mailbox.tenantId,
            clientState: 'client-secret',
            lifecycleEvent: 'missed',
          },
        ],
      });
    });
  });

  describe('lifecycle and admin', () => {
    it('subscriptionRemoved is sent and deletes the subscription; unknown ids are reported', async () => {
      const id = String((await graph('POST', 'subscriptions', createBody())).body.id);
      const service = mod.get(SubscriptionsService);
      expect(service.fireLifecycle(id, 'subscriptionRemoved')?.sent).toBe(true);
      await until('lifecycle', () => posts(LIFECYCLE).length > 0, 2000);
      expect(posts(LIFECYCLE)[0].json).toMatchObject({
        value: [{ subscriptionId: id, lifecycleEvent: 'subscriptionRemoved' }],
      });
      expect(service.list()).toEqual([]);
      expect(service.fireLifecycle(id, 'missed')).toBeUndefined();
      expect(() => service.fireLifecycleOrFail(id, 'missed')).toThrow(/no subscription/);
    });

    it('reports sent: false without a lifecycleNotificationUrl', async () => {
      const id = String(
        (await graph('POST', 'subscriptions', createBody({ lifecycleNotificationUrl: undefined }))).body.id,
      );
      expect(mod.get(SubscriptionsService).fireLifecycle(id, 'missed')?.sent).toBe(false);
    });

    it('summarises every subscription for the admin API', async () => {
      const created = (await graph('POST', 'subscriptions', createBody())).body;
      expect(mod.get(SubscriptionsService).list()).toEqual([
        {
          id: created.id,
          address: 'ada@example.com',
          applicationId: 'app-1',
          resource: 'me/messages',
          changeType: 'created,updated,deleted',
          clientState: 'client-secret',
          notificationUrl: HOOK,
          lifecycleNotificationUrl: LIFECYCLE,
          expirationDateTime: created.expirationDateTime,
          state: 'active',
          delivered: 0,
        },
      ]);
    });

    it('plugs into the admin hooks: lifecycle from POST /_emulator/faults, and reset', async () => {
      const id = String((await graph('POST', 'subscriptions', createBody())).body.id);
      const hooks = mod.get(AdminHooks);
      await expect(hooks.fireLifecycle!(id, 'missed')).resolves.toMatchObject({ lifecycleEvent: 'missed' });
      await expect(hooks.fireLifecycle!('nope', 'missed')).rejects.toThrow(/no subscription/);
      hooks.reset();
      expect(mod.get(SubscriptionsService).list()).toEqual([]);
    });

    it('sends reauthorizationRequired once within the window before expiry, and purges long-expired ones', async () => {
      settings.reauthorizeBeforeMinutes = 10;
      const soon = String(
        (await graph('POST', 'subscriptions', createBody({ expirationDateTime: inMinutes(5) }))).body.id,
      );
      await graph('POST', 'subscriptions', createBody({ expirationDateTime: inMinutes(60) }));
      const watch = mod.get(ExpiryWatch);
      watch.sweep(Date.now());
      watch.sweep(Date.now());
      await until('reauthorization', () => posts(LIFECYCLE).length > 0, 2000);
      await new Promise((r) => setTimeout(r, 30));
      expect(posts(LIFECYCLE).map((r) => r.json)).toEqual([
        {
          value: [
            expect.objectContaining({ subscriptionId: soon, lifecycleEvent: 'reauthorizationRequired' }),
          ],
        },
      ]);
      watch.sweep(Date.now() + 5 * 60_000 + EXPIRED_RETENTION_MS + 1);
      expect(
        mod
          .get(SubscriptionsService)
          .list()
          .map((s) => s.id),
      ).not.toContain(soon);
    });
  });
});
