import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { subscriptionLifecycleSchema, type SubscriptionLifecycle } from '@email-core/contracts';
import { RecordingKafkaPublisher, testProducerConfig } from '@email-core/testing';
import { hashClientState } from '../../client-state';
import { SubscriptionRoutes } from '../../subscription-routes';
import { UnknownIdBudget } from '../../unknown-id-budget';
import { WebhookDropLog } from '../../webhook-drop-log';
import { WebhookPublisher } from '../../webhook-publisher';
import { AcceptLifecycleNotificationsCommand } from './accept-lifecycle-notifications.command';
import { AcceptLifecycleNotificationsHandler } from './accept-lifecycle-notifications.handler';

describe('AcceptLifecycleNotificationsHandler', () => {
  const accountId = randomUUID();
  const receivedAt = '2026-03-01T10:00:00.000Z';
  let kafka: RecordingKafkaPublisher;
  let handler: AcceptLifecycleNotificationsHandler;
  /** the messages of each produce request on the subscriptions topic, as the webhook's publisher sent them */
  const published = () =>
    kafka.sends.map((batch) =>
      batch.map((m) => {
        expect([m.topic, m.key]).toEqual(['unit.email-core.graph.subscriptions', accountId]);
        return m.value as SubscriptionLifecycle;
      }),
    );

  beforeEach(() => {
    kafka = new RecordingKafkaPublisher();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const publisher = new WebhookPublisher(kafka, testProducerConfig({ KAFKA_TOPIC_PREFIX: 'unit.' }));
    const routes = new SubscriptionRoutes({
      findRoutes: (ids) =>
        Promise.resolve(
          new Map(
            ids
              .filter((id) => id === 'sub-1')
              .map((id) => [id, { accountId, userId: randomUUID(), clientStateHash: hashClientState('s1') }]),
          ),
        ),
    });
    handler = new AcceptLifecycleNotificationsHandler(
      routes,
      new UnknownIdBudget({ limit: 100 }),
      publisher,
      new WebhookDropLog(),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('turns each accepted event into one subscription.lifecycle message keyed by account', async () => {
    const result = await handler.execute(
      new AcceptLifecycleNotificationsCommand(
        [
          { subscriptionId: 'sub-1', clientState: 's1', lifecycleEvent: 'missed' },
          { subscriptionId: 'sub-1', clientState: 's1', lifecycleEvent: 'missed' },
          { subscriptionId: 'sub-1', clientState: 's1', lifecycleEvent: 'reauthorizationRequired' },
          { subscriptionId: 'sub-1', clientState: 'forged', lifecycleEvent: 'subscriptionRemoved' },
          { subscriptionId: 'sub-2', clientState: 's1', lifecycleEvent: 'subscriptionRemoved' },
        ],
        receivedAt,
        '203.0.113.7',
      ),
    );
    expect(result).toEqual({ accepted: 3, dropped: 2 });
    expect(published()).toEqual([
      [
        {
          type: 'subscription.lifecycle',
          v: 1,
          accountId,
          subscriptionId: 'sub-1',
          lifecycleEvent: 'missed',
          receivedAt,
        },
        {
          type: 'subscription.lifecycle',
          v: 1,
          accountId,
          subscriptionId: 'sub-1',
          lifecycleEvent: 'reauthorizationRequired',
          receivedAt,
        },
      ],
    ]);
    for (const m of published()[0]) expect(subscriptionLifecycleSchema.parse(m)).toEqual(m);
  });

  it('publishes nothing for forged events', async () => {
    await handler.execute(
      new AcceptLifecycleNotificationsCommand(
        [{ subscriptionId: 'sub-1', clientState: 'forged', lifecycleEvent: 'subscriptionRemoved' }],
        receivedAt,
        '203.0.113.7',
      ),
    );
    expect(published()).toEqual([]);
  });
});
