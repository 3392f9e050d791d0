import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { mailboxPokeSchema, type MailboxPoke } from '@email-core/contracts';
import type { SubscriptionRoute } from '@email-core/database';
import { RecordingKafkaPublisher, testProducerConfig } from '@email-core/testing';
import { hashClientState } from '../../client-state';
import type { ChangeItem } from '../../notification-payload';
import { SubscriptionRoutes } from '../../subscription-routes';
import { UnknownIdBudget } from '../../unknown-id-budget';
import { WebhookDropLog } from '../../webhook-drop-log';
import { WebhookPublisher } from '../../webhook-publisher';
import { AcceptChangeNotificationsCommand } from './accept-change-notifications.command';
import { AcceptChangeNotificationsHandler, toPokes } from './accept-change-notifications.handler';

describe('AcceptChangeNotificationsHandler', () => {
  const accountA = randomUUID();
  const accountB = randomUUID();
  const routesById: Record<string, SubscriptionRoute> = {
    'sub-a': { accountId: accountA, userId: randomUUID(), clientStateHash: hashClientState('state-a') },
    'sub-b': { accountId: accountB, userId: randomUUID(), clientStateHash: hashClientState('state-b') },
  };
  const receivedAt = '2026-03-01T10:00:00.000Z';
  const item = (subscriptionId: string, clientState: string, n: number): ChangeItem => ({
    subscriptionId,
    clientState,
    changeType: n % 2 ? 'updated' : 'created',
    resource: `Users/u/Messages/m${n}`,
    resourceData: { id: `m${n}` },
  });

  let kafka: RecordingKafkaPublisher;
  let warnings: string[];
  let handler: AcceptChangeNotificationsHandler;
  /** the pokes of each produce request, as the webhook's publisher sent them */
  const published = () => kafka.sends.map((batch) => batch.map((m) => m.value as MailboxPoke));

  beforeEach(() => {
    kafka = new RecordingKafkaPublisher();
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
    const publisher = new WebhookPublisher(kafka, testProducerConfig({ KAFKA_TOPIC_PREFIX: 'unit.' }));
    const routes = new SubscriptionRoutes({
      findRoutes: (ids) =>
        Promise.resolve(new Map(ids.filter((id) => routesById[id]).map((id) => [id, routesById[id]]))),
    });
    handler = new AcceptChangeNotificationsHandler(
      routes,
      new UnknownIdBudget({ limit: 100 }),
      publisher,
      new WebhookDropLog(),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('publishes the accepted items grouped per account, in order, as valid mailbox.poke messages', async () => {
    const items = [item('sub-a', 'state-a', 1), item('sub-b', 'state-b', 2), item('sub-a', 'state-a', 3)];
    const result = await handler.execute(
      new AcceptChangeNotificationsCommand(items, receivedAt, '203.0.113.7'),
    );
    expect(result).toEqual({ accepted: 3, dropped: 0 });
    expect(published()).toEqual([
      [
        {
          type: 'mailbox.poke',
          v: 1,
          accountId: accountA,
          source: 'webhook',
          changes: [
            { kind: 'updated', messageId: 'm1' },
            { kind: 'updated', messageId: 'm3' },
          ],
          receivedAt,
        },
        {
          type: 'mailbox.poke',
          v: 1,
          accountId: accountB,
          source: 'webhook',
          changes: [{ kind: 'created', messageId: 'm2' }],
          receivedAt,
        },
      ],
    ]);
    for (const m of published()[0]) expect(mailboxPokeSchema.parse(m)).toEqual(m);
    // on the pokes topic under the deployment's prefix, keyed by account
    expect(kafka.sent.map((m) => [m.topic, m.key])).toEqual([
      ['unit.email-core.mailbox.pokes', accountA],
      ['unit.email-core.mailbox.pokes', accountB],
    ]);
    expect(JSON.stringify(published())).not.toContain('state-');
  });

  it('drops unknown subscriptions and wrong clientStates, counts them in the log without secrets', async () => {
    const items = [
      item('sub-a', 'forged', 1),
      item('sub-unknown', 'state-a', 2),
      item('sub-b', 'state-b', 3),
      { ...item('sub-a', 'x', 4), clientState: undefined },
    ];
    const result = await handler.execute(
      new AcceptChangeNotificationsCommand(items, receivedAt, '203.0.113.7'),
    );
    expect(result).toEqual({ accepted: 1, dropped: 3 });
    expect(published()).toHaveLength(1);
    expect(published()[0].map((m) => m.accountId)).toEqual([accountB]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/1 for unknown subscriptions, 2 with a clientState that does not match/);
    expect(warnings.join()).not.toMatch(/forged|sub-|state-/);
  });

  it('publishes nothing when nothing is accepted', async () => {
    const result = await handler.execute(
      new AcceptChangeNotificationsCommand([item('sub-a', 'nope', 1)], receivedAt, '203.0.113.7'),
    );
    expect(result).toEqual({ accepted: 0, dropped: 1 });
    expect(published()).toEqual([]);
  });

  it('fails with NOTIFICATIONS_UNAVAILABLE (503) when Kafka does not acknowledge, so Graph retries', async () => {
    kafka.failure = new Error('Kafka did not acknowledge within 2000 ms');
    const run = handler.execute(
      new AcceptChangeNotificationsCommand([item('sub-a', 'state-a', 1)], receivedAt, '203.0.113.7'),
    );
    await expect(run).rejects.toMatchObject({
      name: 'AppError',
      code: 'NOTIFICATIONS_UNAVAILABLE',
      kind: 'unavailable',
    });
  });
});

describe('toPokes', () => {
  const accountId = randomUUID();
  it('splits one account over several messages at 1,000 changes and at about 256 KB', () => {
    const many = Array.from({ length: 2500 }, (_, n) => ({
      accountId,
      item: {
        subscriptionId: 's',
        changeType: 'created' as const,
        resource: `r${n}`,
        resourceData: { id: `m${n}` },
      },
    }));
    expect(toPokes(many, 'x').messages.map((m) => m.changes.length)).toEqual([1000, 1000, 500]);
    // each change names a 500-character message and a 1,000-character folder: about 1.5 KB
    const big = Array.from({ length: 500 }, (_, n) => ({
      accountId,
      item: {
        subscriptionId: 's',
        changeType: 'deleted' as const,
        resource: `me/mailFolders/${'f'.repeat(1000)}/messages/x`,
        resourceData: { id: `${n}`.padStart(500, 'm') },
      },
    }));
    const split = toPokes(big, 'x');
    expect(split.messages.length).toBe(3);
    expect(split.messages.every((m) => JSON.stringify(m).length < 300 * 1024)).toBe(true);
    expect(split.messages.flatMap((m) => m.changes)).toHaveLength(500);
    expect(split.bytes).toBeGreaterThan(500 * 1500);
  });

  it("reads each item's resource once into the change: the message and the folder it names, never the resource", () => {
    const { messages } = toPokes(
      [
        {
          accountId,
          item: { subscriptionId: 's', changeType: 'created', resource: 'Users/u/Messages/AAMk%3D1' },
        },
        {
          accountId,
          item: { subscriptionId: 's', changeType: 'updated', resource: "me/mailFolders('F1')/messages" },
        },
        { accountId, item: { subscriptionId: 's', changeType: 'deleted', resource: 'me/messages' } },
      ],
      '2026-03-01T10:00:00.000Z',
    );
    expect(messages).toEqual([
      {
        type: 'mailbox.poke',
        v: 1,
        accountId,
        source: 'webhook',
        changes: [
          { kind: 'created', messageId: 'AAMk=1' },
          { kind: 'updated', folderId: 'F1' },
          { kind: 'deleted' },
        ],
        receivedAt: '2026-03-01T10:00:00.000Z',
      },
    ]);
  });
});
