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
 * could not converge in-process) to ApplyPoke, coalesced per account: an account's pokes that arrive while its
 * round runs wait and make one more round together right after it (one round per account at a time), and up to
 * `NOTIFY_CONCURRENT_ROUNDS` accounts' rounds run at once, whatever their partition or batch, so a slow mailbox
 * holds up only its own pokes; the reconciliation's pokes go after live ones (and take at most half of the
 * rounds), so its sweep never queues live changes behind it. The runner validates, routes a failed account's
 * pokes to retry / dead-letter, and commits each partition up to its first poke whose round is not durable yet.
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
          groupsConcurrently: config.notifications.concurrentRounds,
          // the reconciliation's sweep may wait: live changes go first, and it takes at most half of the rounds
          isBackground: (poke) => poke.source === 'reconcile',
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
        }),
    });
  }
}
