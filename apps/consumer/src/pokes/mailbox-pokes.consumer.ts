import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, mailboxPokeSchema, Topics } from '@email-core/contracts';
import { runBatchConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { ApplyPokeCommand } from './apply-poke/apply-poke.command';

/**
 * `mailbox.poke` from Kafka (any watcher: the Graph webhook, IMAP IDLE, the reconciliation, a mail action that
 * could not converge in-process) to ApplyPoke, coalesced: each fetched batch is grouped by account and each
 * account gets one round for all of its pokes. The runner validates, routes a failed account's messages to retry /
 * dead-letter, and commits the batch only after every round is durable.
 */
@Injectable()
export class MailboxPokesConsumer extends TopicConsumer {
  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    commandBus: CommandBus,
  ) {
    super(consumers, {
      context: 'MailboxPokesConsumer',
      name: 'pokes consumer',
      group: ConsumerGroups.notifications,
      topic: Topics.mailboxPokes,
      start: (shared) =>
        runBatchConsumer({
          ...shared,
          schema: mailboxPokeSchema,
          // the account the message names, whatever its key (every watcher keys by account too)
          groupOf: (poke) => poke.accountId,
          handleGroup: async (_accountId, messages, ctx) => {
            await commandBus.execute(
              new ApplyPokeCommand(
                messages.map((m) => m.value),
                ctx.signal,
              ),
            );
          },
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
        }),
    });
  }
}
