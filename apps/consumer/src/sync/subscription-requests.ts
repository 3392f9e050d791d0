import { Injectable, Logger } from '@nestjs/common';
import { subscriptionEnsureSchema, Topics, type SubscriptionEnsure } from '@email-core/contracts';
import { describeError, KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';

/**
 * Asks the subscription manager to make sure an account has its Graph subscription (`subscription.ensure` on the
 * subscriptions topic, keyed by account). Best effort: a failure is logged, and the manager's periodic sweep of
 * synced accounts without a subscription is the safety net.
 */
@Injectable()
export class SubscriptionRequests {
  private readonly logger = new Logger('SubscriptionRequests');

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  async ensure(accountId: string, reason: SubscriptionEnsure['reason']): Promise<void> {
    const message: SubscriptionEnsure = {
      type: 'subscription.ensure',
      v: 1,
      accountId,
      reason,
      requestedAt: new Date().toISOString(),
    };
    try {
      await this.publisher.publish(this.topics.name(Topics.subscriptions), accountId, message, {
        schema: subscriptionEnsureSchema,
      });
    } catch (err) {
      this.logger.warn(
        `subscription.ensure for account ${accountId} not published (the subscription sweep will catch up): ${describeError(err)}`,
      );
    }
  }
}
