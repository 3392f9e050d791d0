import { Logger } from '@nestjs/common';
import { FaultsService } from '../../faults/faults.service';
import { StatsService, type NotificationDelivery } from '../../faults/stats.service';
import { MailboxStore } from '../../store/mailbox-store';
import type { ChangeNotificationItem } from '../domain/notification-payloads';
import { lifecycleNotification } from '../domain/notification-payloads';
import type { Subscription } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import type { SubscriptionSettings } from '../subscription-settings';
import { fakeWebhookClient, settingsFactory, subscriptionFactory } from '../testing/subscription.factory';
import { NotificationSender } from './notification-sender';
import type { WebhookRequest, WebhookResponse } from './webhook-client';

const URL_A = 'http://127.0.0.1:9/a';
const URL_B = 'http://127.0.0.1:9/b';

describe('NotificationSender', () => {
  let repo: SubscriptionRepository;
  let faults: FaultsService;
  let stats: StatsService;
  let sub: Subscription;
  let seq = 0;

  const mailbox = new MailboxStore().createMailbox({ address: 'ada@example.com' });

  function setup(
    respond?: (req: WebhookRequest) => Partial<WebhookResponse>,
    overrides: Partial<SubscriptionSettings> = {},
  ) {
    const client = fakeWebhookClient(respond);
    const sender = new NotificationSender(
      client,
      faults,
      stats,
      repo,
      settingsFactory({
        batchWindowMs: 50,
        retryBaseMs: 1000,
        retryMaxMs: 60000,
        maxAttempts: 4,
        ...overrides,
      }),
    );
    return { client, sender };
  }

  const item = (s: Subscription = sub): ChangeNotificationItem => {
    seq++;
    const resource = `Users/${mailbox.userId}/Messages/m${seq}`;
    return {
      id: `item-${seq}`,
      subscriptionId: s.id,
      subscriptionExpirationDateTime: new Date(s.expiresAt).toISOString(),
      changeType: 'created',
      resource,
      tenantId: s.tenantId,
      clientState: s.clientState,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': resource,
        '@odata.etag': 'W/"x"',
        id: `m${seq}`,
      },
    };
  };

  const deliveries = (): NotificationDelivery[] =>
    (stats.snapshot().notifications as { recent: NotificationDelivery[] }).recent;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn']);
  });
  beforeEach(() => {
    jest.useFakeTimers();
    repo = new SubscriptionRepository();
    faults = new FaultsService(false);
    stats = new StatsService();
    sub = subscriptionFactory(mailbox);
    repo.add(sub);
  });
  afterEach(() => jest.useRealTimers());

  describe('batching', () => {
    it('collects the changes for one URL during the window and POSTs them together as JSON', async () => {
      const { client, sender } = setup();
      const items = [item(), item()];
      sender.enqueueChange(URL_A, items[0]);
      await jest.advanceTimersByTimeAsync(20);
      sender.enqueueChange(URL_A, items[1]);
      await jest.advanceTimersByTimeAsync(29);
      expect(client.requests).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(client.requests).toHaveLength(1);
      expect(client.requests[0]).toMatchObject({
        url: URL_A,
        contentType: 'application/json',
        timeoutMs: 3000,
      });
      expect(client.requests[0].json).toEqual({ value: items });
    });

    it('mixes subscriptions that share a URL and keeps URLs apart', async () => {
      const other = subscriptionFactory(mailbox);
      repo.add(other);
      const { client, sender } = setup();
      sender.enqueueChange(URL_A, item(sub));
      sender.enqueueChange(URL_A, item(other));
      sender.enqueueChange(URL_B, item(sub));
      await jest.advanceTimersByTimeAsync(50);
      const byUrl = Object.fromEntries(
        client.requests.map((r) => [r.url, (r.json as { value: ChangeNotificationItem[] }).value]),
      );
      expect(byUrl[URL_A].map((i) => i.subscriptionId)).toEqual([sub.id, other.id]);
      expect(byUrl[URL_B]).toHaveLength(1);
    });

    it('sends at most 100 items per POST, the first 100 at once', async () => {
      const { client, sender } = setup();
      for (let i = 0; i < 250; i++) sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(0);
      expect(client.requests.map((r) => (r.json as { value: unknown[] }).value.length)).toEqual([100, 100]);
      await jest.advanceTimersByTimeAsync(50);
      expect(client.requests.map((r) => (r.json as { value: unknown[] }).value.length)).toEqual([
        100, 100, 50,
      ]);
      expect(sub.delivered).toBe(250);
    });
  });

  describe('retries', () => {
    it('retries a non-2xx with exponential backoff, then succeeds, recording every attempt', async () => {
      const statuses = [500, 503, 202];
      const { client, sender } = setup(() => ({ status: statuses.shift() }));
      sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(50);
      expect(client.requests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(999);
      expect(client.requests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(client.requests).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1999);
      expect(client.requests).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(client.requests).toHaveLength(3);
      expect(client.requests[2].body).toBe(client.requests[0].body);
      expect(deliveries().map((d) => [d.attempt, d.status, d.outcome])).toEqual([
        [1, 500, 'failed'],
        [2, 503, 'failed'],
        [3, 202, 'delivered'],
      ]);
      expect(deliveries()[0]).toMatchObject({
        kind: 'change',
        url: URL_A,
        subscriptionIds: [sub.id],
        items: 1,
      });
      expect(sub.delivered).toBe(1);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(client.requests).toHaveLength(3);
    });

    it('counts a timeout as slow and retries it; a 2xx over 2.9 s is slow but delivered', async () => {
      const answers: Partial<WebhookResponse>[] = [
        { status: 0, timedOut: true, latencyMs: 3000 },
        { status: 200, latencyMs: 2950 },
      ];
      const { client, sender } = setup(() => answers.shift() ?? {});
      sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(50 + 1000);
      expect(client.requests).toHaveLength(2);
      expect(deliveries().map((d) => [d.status, d.outcome])).toEqual([
        [0, 'slow'],
        [200, 'slow'],
      ]);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(client.requests).toHaveLength(2);
      expect(sub.delivered).toBe(1);
    });

    it('retries a refused connection and gives up after the last attempt, reporting the subscriptions', async () => {
      const { client, sender } = setup(() => ({ status: 0, error: 'ECONNREFUSED' }));
      const undeliverable = jest.fn();
      sender.onUndeliverable(undeliverable);
      sender.enqueueChange(URL_A, item());
      // attempts at 50, +1000, +2000, +4000 (maxAttempts 4)
      await jest.advanceTimersByTimeAsync(50 + 1000 + 2000 + 3999);
      expect(client.requests).toHaveLength(3);
      expect(undeliverable).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(client.requests).toHaveLength(4);
      expect(undeliverable).toHaveBeenCalledWith([sub.id]);
      await jest.advanceTimersByTimeAsync(600_000);
      expect(client.requests).toHaveLength(4);
      expect(deliveries().every((d) => d.outcome === 'failed')).toBe(true);
    });

    it('caps the backoff', async () => {
      const { client, sender } = setup(() => ({ status: 500 }), {
        retryBaseMs: 200,
        retryMaxMs: 500,
        maxAttempts: 5,
      });
      sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(10_000);
      const times = client.requests.map((r) => r.at);
      expect(times.slice(1).map((t, i) => t - times[i])).toEqual([200, 400, 500, 500]);
    });

    it('stops retrying the items of a subscription that was deleted or has expired', async () => {
      const expiring = subscriptionFactory(mailbox, { expiresAt: Date.now() + 500 });
      repo.add(expiring);
      const { client, sender } = setup(() => ({ status: 500 }));
      sender.enqueueChange(URL_A, item(sub));
      sender.enqueueChange(URL_A, item(expiring));
      await jest.advanceTimersByTimeAsync(50);
      expect((client.requests[0].json as { value: unknown[] }).value).toHaveLength(2);
      repo.remove(sub.id);
      await jest.advanceTimersByTimeAsync(1000);
      expect(client.requests).toHaveLength(1);
    });

    it('retries lifecycle notifications the same way, without waiting for a batch window', async () => {
      const statuses = [500, 202];
      const { client, sender } = setup(() => ({ status: statuses.shift() }));
      sender.sendLifecycle(URL_B, lifecycleNotification(sub, 'missed'));
      await jest.advanceTimersByTimeAsync(0);
      expect(client.requests[0].json).toEqual({ value: [lifecycleNotification(sub, 'missed')] });
      await jest.advanceTimersByTimeAsync(1000);
      expect(client.requests).toHaveLength(2);
      expect(deliveries().map((d) => [d.kind, d.outcome])).toEqual([
        ['lifecycle', 'failed'],
        ['lifecycle', 'delivered'],
      ]);
      expect(sub.delivered).toBe(0);
    });
  });

  describe('faults', () => {
    it('drops items, recording them as dropped', async () => {
      faults.update({ notifications: { drop: 1 } });
      const { client, sender } = setup();
      sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(1000);
      expect(client.requests).toHaveLength(0);
      expect(deliveries()).toEqual([
        expect.objectContaining({ outcome: 'dropped', items: 1, subscriptionIds: [sub.id] }),
      ]);
    });

    it('duplicates items in a later POST', async () => {
      faults.update({ notifications: { duplicate: 1 } });
      const { client, sender } = setup();
      const it1 = item();
      sender.enqueueChange(URL_A, it1);
      await jest.advanceTimersByTimeAsync(200);
      expect(client.requests.map((r) => r.json)).toEqual([{ value: [it1] }, { value: [it1] }]);
    });

    it('delays delivery', async () => {
      faults.update({ notifications: { delayMs: 5000 } });
      const { client, sender } = setup();
      sender.enqueueChange(URL_A, item());
      await jest.advanceTimersByTimeAsync(5049);
      expect(client.requests).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(client.requests).toHaveLength(1);
    });

    it('reorders the items of a batch and lets batches overtake each other', async () => {
      faults.update({ notifications: { reorder: true } });
      const rolls = [0, 0, 0.99, 0];
      const random = jest.spyOn(Math, 'random').mockImplementation(() => rolls.shift() ?? 0.5);
      const { client, sender } = setup();
      const first = [item(), item(), item()];
      for (const i of first) sender.enqueueChange(URL_A, i);
      await jest.advanceTimersByTimeAsync(50); // flush 1: shuffle rolls 0,0 then a long hold (0.99)
      const second = item();
      sender.enqueueChange(URL_A, second);
      await jest.advanceTimersByTimeAsync(50); // flush 2: a hold of 0
      await jest.advanceTimersByTimeAsync(500);
      random.mockRestore();
      const bodies = client.requests.map((r) =>
        (r.json as { value: ChangeNotificationItem[] }).value.map((i) => i.id),
      );
      expect(bodies[0]).toEqual([second.id]);
      expect(bodies[1]).toEqual([first[1].id, first[2].id, first[0].id]);
    });
  });

  it('reset drops queued and scheduled deliveries', async () => {
    const { client, sender } = setup(() => ({ status: 500 }));
    sender.enqueueChange(URL_A, item());
    await jest.advanceTimersByTimeAsync(50);
    sender.enqueueChange(URL_B, item());
    sender.reset();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(client.requests).toHaveLength(1);
  });
});
