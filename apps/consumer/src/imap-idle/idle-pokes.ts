import { Injectable, Logger } from '@nestjs/common';
import { mailboxPokeSchema, Topics, type MailboxPoke } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { runWithCorrelation } from '@email-core/logging';
import { KafkaTopics } from '../messaging/kafka-topics';
import type { CoalescedPoke } from './poke-coalescer';

/** a poke names at most this many changes (the schema's cap); more folders than that: every folder */
const MAX_CHANGES = 1000;

/** A coalesced burst as a `mailbox.poke` of source 'idle'. */
export function idlePoke(accountId: string, burst: CoalescedPoke, receivedAt: Date): MailboxPoke {
  const everyFolder = burst.everyFolder || burst.changes.length > MAX_CHANGES;
  return {
    type: 'mailbox.poke',
    v: 1,
    accountId,
    source: 'idle',
    changes: everyFolder ? [] : burst.changes,
    ...(everyFolder ? { everyFolder: true } : {}),
    receivedAt: receivedAt.toISOString(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Publishes the watcher's pokes to the pokes topic, keyed by account (the pokes consumer runs one round for
 * them), a few tries each. A poke that cannot be published is logged and dropped: the next change, reconnect or
 * the periodic reconciliation brings the mirror along anyway.
 */
@Injectable()
export class IdlePokes {
  private readonly logger = new Logger('ImapIdlePokes');
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  /** Each poke starts a correlation id of its own, which its round and the events it announces carry. */
  publish(accountId: string, burst: CoalescedPoke): void {
    const poke = idlePoke(accountId, burst, new Date());
    const sending = runWithCorrelation(undefined, () => {
      this.logger.log(
        `IDLE poke of account ${accountId}: ` +
          (poke.everyFolder ? 'every folder' : `${poke.changes.length} folder change(s)`),
      );
      return this.send(poke);
    }).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** waits for the pokes being sent (shutdown) */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async send(poke: MailboxPoke): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.publisher.publish(this.topics.name(Topics.mailboxPokes), poke.accountId, poke, {
          schema: mailboxPokeSchema,
        });
        return;
      } catch (err) {
        if (attempt >= 3) {
          this.logger.warn(
            `poke of account ${poke.accountId} not published (${(err as Error).message}); ` +
              'the reconciliation will catch up',
          );
          return;
        }
        await sleep(250 * attempt);
      }
    }
  }
}
