import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { GraphNotification, GraphNotificationItem } from '@email-core/contracts';
import type { ChangeItem } from '../../notification-payload';
import { verifyItems } from '../../verify-items';
import { SubscriptionRoutes } from '../../subscription-routes';
import { UnknownIdBudget } from '../../unknown-id-budget';
import { WebhookDropLog } from '../../webhook-drop-log';
import { WebhookErrors } from '../../webhook-errors';
import { WebhookPublisher } from '../../webhook-publisher';
import {
  AcceptChangeNotificationsCommand,
  type AcceptNotificationsResult,
} from './accept-change-notifications.command';

/** the contract's cap on items per `graph.notification` message */
const MAX_ITEMS_PER_MESSAGE = 1000;
/** and ours on the size of one message, so a batch of them stays a reasonable produce request */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** JSON framing of one item besides its strings (keys, quotes, changeType) */
const ITEM_OVERHEAD_BYTES = 64;

/**
 * Accepted change items, grouped per subscription (one subscription belongs to one account) into
 * `graph.notification` messages on `Topics.graphNotifications`, keyed by account id. Resolves only after Kafka
 * acknowledged them (acks all), so the 202 that follows means "stored"; a Kafka or database failure is a 503.
 */
@CommandHandler(AcceptChangeNotificationsCommand)
export class AcceptChangeNotificationsHandler implements ICommandHandler<AcceptChangeNotificationsCommand> {
  constructor(
    private readonly routes: SubscriptionRoutes,
    private readonly budget: UnknownIdBudget,
    private readonly publisher: WebhookPublisher,
    private readonly drops: WebhookDropLog,
  ) {}

  async execute({
    items,
    receivedAt,
    source,
  }: AcceptChangeNotificationsCommand): Promise<AcceptNotificationsResult> {
    const { accepted, dropped } = await verifyItems(
      { routes: this.routes, budget: this.budget, drops: this.drops },
      items,
      source,
    );
    if (accepted.length === 0) return { accepted: 0, dropped };
    const { messages, bytes } = toMessages(accepted, receivedAt);
    try {
      await this.publisher.publishNotifications(messages, bytes);
    } catch (err) {
      throw WebhookErrors.unavailable(err);
    }
    return { accepted: accepted.length, dropped };
  }
}

/** one message per subscription (split when it would exceed the item or size cap), in arrival order */
export function toMessages(
  accepted: Array<{ item: ChangeItem; accountId: string }>,
  receivedAt: string,
): { messages: GraphNotification[]; bytes: number } {
  const open = new Map<string, { message: GraphNotification; bytes: number }>();
  const messages: GraphNotification[] = [];
  let total = 0;
  for (const { item, accountId } of accepted) {
    const out: GraphNotificationItem = { changeType: item.changeType, resource: item.resource };
    const messageId = item.resourceData?.id;
    if (messageId !== undefined) out.messageId = messageId;
    const size = item.resource.length + (messageId?.length ?? 0) + ITEM_OVERHEAD_BYTES;
    let current = open.get(item.subscriptionId);
    if (
      !current ||
      current.message.items.length >= MAX_ITEMS_PER_MESSAGE ||
      current.bytes + size > MAX_MESSAGE_BYTES
    ) {
      current = {
        message: {
          type: 'graph.notification',
          v: 1,
          accountId,
          subscriptionId: item.subscriptionId,
          items: [],
          receivedAt,
        },
        bytes: 256,
      };
      open.set(item.subscriptionId, current);
      messages.push(current.message);
      total += current.bytes;
    }
    current.message.items.push(out);
    current.bytes += size;
    total += size;
  }
  return { messages, bytes: total };
}
