import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { MailboxPoke } from '@email-core/contracts';
import { pokeChangeOf } from '../../graph-resource';
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

/** the contract's cap on changes per `mailbox.poke` message */
const MAX_CHANGES_PER_MESSAGE = 1000;
/** and ours on the size of one message, so a batch of them stays a reasonable produce request */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** JSON framing of one change besides its ids (keys, quotes, kind) */
const CHANGE_OVERHEAD_BYTES = 64;

/**
 * Accepted change items, their `resource` read once (graph-resource.ts), grouped per account into provider-neutral
 * `mailbox.poke` messages (source `webhook`) on `Topics.mailboxPokes`, keyed by account id. Resolves only after
 * Kafka acknowledged them (acks all), so the 202 that follows means "stored"; a Kafka or database failure is a 503.
 */
@CommandHandler(AcceptChangeNotificationsCommand)
export class AcceptChangeNotificationsHandler implements ICommandHandler<AcceptChangeNotificationsCommand> {
  private readonly logger = new Logger('GraphWebhook');

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
    const { messages, bytes } = toPokes(accepted, receivedAt);
    try {
      await this.publisher.publishPokes(messages, bytes);
    } catch (err) {
      throw WebhookErrors.unavailable(err);
    }
    // one line per POST, under its correlation id: where a change's path starts (never a resource or clientState)
    this.logger.log(
      `webhook accepted ${accepted.length} notification(s): ${messages.length} poke(s) for ` +
        `${new Set(messages.map((m) => m.accountId)).size} account(s)${dropped > 0 ? `, ${dropped} dropped` : ''}`,
    );
    return { accepted: accepted.length, dropped };
  }
}

/** one poke per account (split when it would exceed the change or size cap), changes in arrival order */
export function toPokes(
  accepted: Array<{ item: ChangeItem; accountId: string }>,
  receivedAt: string,
): { messages: MailboxPoke[]; bytes: number } {
  const open = new Map<string, { message: MailboxPoke; bytes: number }>();
  const messages: MailboxPoke[] = [];
  let total = 0;
  for (const { item, accountId } of accepted) {
    const change = pokeChangeOf(item);
    const size = (change.messageId?.length ?? 0) + (change.folderId?.length ?? 0) + CHANGE_OVERHEAD_BYTES;
    let current = open.get(accountId);
    if (
      !current ||
      current.message.changes.length >= MAX_CHANGES_PER_MESSAGE ||
      current.bytes + size > MAX_MESSAGE_BYTES
    ) {
      current = {
        message: { type: 'mailbox.poke', v: 1, accountId, source: 'webhook', changes: [], receivedAt },
        bytes: 256,
      };
      open.set(accountId, current);
      messages.push(current.message);
      total += current.bytes;
    }
    current.message.changes.push(change);
    current.bytes += size;
    total += size;
  }
  return { messages, bytes: total };
}
