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
 * Pokes of one partition fetched and not yet done before its fetching waits (the runner's default is 1,000). A
 * poke only says where to look, so every poke of an account that is in memory when its next round starts goes into
 * that one round: with the pokes in memory, a consumer that falls behind makes each account's round cover more of
 * them, and a change waits about one pass over the busy accounts. With 1,000, a burst past 1,000 per partition
 * waited in Kafka behind the whole backlog instead (bench:scale at 500 changes a second over 1,000 accounts: the lag
 * grew to 20,000-28,000 pokes, and p50 to 11-73 s). A fetched poke (its text, parsed value and headers) takes about
 * 2 KB: 6 partitions x 10,000 stay near 120 MB at worst.
 */
export const MAX_PENDING_POKES_PER_PARTITION = 10_000;

/**
 * `mailbox.poke` from Kafka (any watcher: the Graph webhook, IMAP IDLE, the reconciliation, a mail action that
 * could not converge in-process) to ApplyPoke, coalesced per account: an account's pokes that arrive while its
 * round runs wait and make one more round together right after it (one round per account at a time), and up to
 * `NOTIFY_CONCURRENT_ROUNDS` accounts' rounds run at once, whatever their partition or batch, so a slow mailbox
 * holds up only its own pokes; the reconciliation's pokes and the catch-ups of `CatchUpRequests` (source
 * 'lifecycle') go after live ones (and take at most a quarter of the rounds), so they never queue live changes
 * behind them. The runner validates, routes a failed account's pokes to retry / dead-letter, and commits each
 * partition up to its first poke whose round is not durable yet.
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
          // the reconciliation's sweep and the catch-ups after a new subscription or a `missed` event (every folder
          // from its cursor, no change named) may wait: live changes go first, and these take at most a quarter of
          // the rounds
          isBackground: (poke) => poke.source === 'reconcile' || poke.source === 'lifecycle',
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxPendingPerPartition: MAX_PENDING_POKES_PER_PARTITION,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
        }),
    });
  }
}
