import { Injectable, Logger } from '@nestjs/common';
import { mailboxPokeSchema, Topics, type MailboxPoke } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';
import { MailboxRound } from '../mirror/mailbox-round';
import type { MirrorTouch } from './actions/action-result';

const MAX_CHANGES = 1000;

/** The touched messages as `mailbox.poke`s of source 'action', at most 1,000 changes each. */
export function actionPokes(
  accountId: string,
  touched: readonly MirrorTouch[],
  receivedAt: Date,
): MailboxPoke[] {
  const pokes: MailboxPoke[] = [];
  for (let i = 0; i < touched.length; i += MAX_CHANGES) {
    pokes.push({
      type: 'mailbox.poke',
      v: 1,
      accountId,
      source: 'action',
      changes: touched.slice(i, i + MAX_CHANGES).map((t) => ({ kind: t.changeType, messageId: t.messageId })),
      receivedAt: receivedAt.toISOString(),
    });
  }
  return pokes;
}

/**
 * Brings the mirror to the provider's state after a command: the touched messages are a poke of source 'action',
 * run in-process as a round of the mirror core (the touched messages' folders catch up under the mailbox lock;
 * what changed is logged with the account's change seq and announced as `mail.changed`; a round of the mailbox
 * already running here takes it on as one more pass). The provider has already acted, so this never fails the
 * command: if the round cannot run now (the mailbox is busy elsewhere, the provider is throttling), the pokes go to
 * the pokes topic, whose consumer retries them; if even that fails, the account's watcher still reports the change.
 */
@Injectable()
export class MirrorRound {
  private readonly logger = new Logger('MirrorRound');

  constructor(
    private readonly round: MailboxRound,
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  async converge(accountId: string, touched: readonly MirrorTouch[], signal: AbortSignal): Promise<void> {
    if (touched.length === 0) return;
    const pokes = actionPokes(accountId, touched, new Date());
    try {
      await this.round.run(accountId, pokes, signal);
      return;
    } catch (err) {
      this.logger.warn(
        `mirror round of account ${accountId} after a command failed (${(err as Error).message}); ` +
          'handing it to the pokes consumer',
      );
    }
    try {
      await this.publisher.publishMany(
        this.topics.name(Topics.mailboxPokes),
        pokes.map((p) => ({ key: accountId, value: p })),
        { schema: mailboxPokeSchema },
      );
    } catch (err) {
      this.logger.warn(
        `could not hand the mirror round of account ${accountId} on (${(err as Error).message}); ` +
          'the watcher will report the change',
      );
    }
  }
}
