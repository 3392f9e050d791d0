import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { graphNotificationSchema, Topics, type GraphNotification } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';
import { ApplyNotificationsCommand } from '../notifications/apply-notifications/apply-notifications.command';
import type { MirrorTouch } from './actions/action-result';

/** Names the notifications a command makes up, for logs; no subscription of Graph's has this id. */
export const COMMAND_NOTIFICATION_SOURCE = 'mail-command';
const MAX_ITEMS = 1000;

/** The touched messages as `graph.notification`s, the way Graph's own notifications name them. */
export function commandNotifications(
  accountId: string,
  touched: readonly MirrorTouch[],
  receivedAt: Date,
): GraphNotification[] {
  const notes: GraphNotification[] = [];
  for (let i = 0; i < touched.length; i += MAX_ITEMS) {
    notes.push({
      type: 'graph.notification',
      v: 1,
      accountId,
      subscriptionId: COMMAND_NOTIFICATION_SOURCE,
      items: touched.slice(i, i + MAX_ITEMS).map((t) => ({
        changeType: t.changeType,
        messageId: t.messageId,
        resource: `me/messages/${t.messageId}`,
      })),
      receivedAt: receivedAt.toISOString(),
    });
  }
  return notes;
}

/**
 * Brings the mirror to Graph's state after a command, through the same incremental machinery as live
 * notifications (ApplyNotifications: the touched messages' folders run their delta under the mailbox lock; what
 * changed is logged with the account's change seq and announced as `mail.changed`). Graph has already acted, so
 * this never fails the command: if the round cannot run now (the mailbox is busy, Graph is throttling), the same
 * notifications go to the notifications topic, whose consumer retries them; if even that fails, the account's
 * subscription still reports the change.
 */
@Injectable()
export class MirrorRound {
  private readonly logger = new Logger('MirrorRound');

  constructor(
    private readonly commandBus: CommandBus,
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  async converge(accountId: string, touched: readonly MirrorTouch[], signal: AbortSignal): Promise<void> {
    if (touched.length === 0) return;
    const notes = commandNotifications(accountId, touched, new Date());
    try {
      await this.commandBus.execute(new ApplyNotificationsCommand(accountId, notes, signal));
      return;
    } catch (err) {
      this.logger.warn(
        `mirror round of account ${accountId} after a command failed (${(err as Error).message}); ` +
          'handing it to the notifications consumer',
      );
    }
    try {
      await this.publisher.publishMany(
        this.topics.name(Topics.graphNotifications),
        notes.map((n) => ({ key: accountId, value: n })),
        { schema: graphNotificationSchema },
      );
    } catch (err) {
      this.logger.warn(
        `could not hand the mirror round of account ${accountId} on (${(err as Error).message}); ` +
          'the subscription will report the change',
      );
    }
  }
}
