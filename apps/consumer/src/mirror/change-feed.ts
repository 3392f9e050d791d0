import type { Logger } from '@nestjs/common';
import type { FolderCounts, MailChange, MailChanged } from '@email-core/contracts';
import type { AccountForSync } from '@email-core/database';
import { describeError } from '@email-core/kafka';

/** `mail.changed` carries at most this many changes (its contract); a larger commit is announced in parts. */
export const MAX_CHANGES_PER_EVENT = 5000;
/** ... and the counts of at most this many folders. */
export const MAX_FOLDERS_PER_EVENT = 1000;

export type PublishMailChanged = (event: MailChanged) => Promise<void>;

/**
 * The live changes of one incremental round (a notification round, or a resync of a synced mailbox): after each
 * committed page that changed something, a `mail.changed` event with its numbered changes and the touched
 * folders' counts. Announcements go out one at a time in commit order (seq order: numbering locks the account row
 * until commit). An event that cannot be published is logged, never retried: the changes are durable in the log,
 * and a client that sees a gap in `seq` catches up through `GET /accounts/:id/changes?since=`.
 */
export class ChangeFeed {
  private chain: Promise<void> = Promise.resolve();
  private announced = 0;
  private last = 0;

  constructor(
    private readonly account: Pick<AccountForSync, 'id' | 'userId'>,
    private readonly publish: PublishMailChanged,
    private readonly logger: Pick<Logger, 'warn'>,
    /** when the webhook accepted the earliest notification this round answers (absent for resyncs) */
    readonly notifiedAt?: string,
  ) {}

  /** Call after the transaction that recorded `changes` committed. */
  announce(changes: MailChange[], folders: FolderCounts[]): void {
    if (changes.length === 0) return;
    this.announced += changes.length;
    this.last = Math.max(this.last, changes.at(-1)?.seq ?? 0);
    this.chain = this.chain.then(() => this.send(changes, folders));
  }

  /** changes announced so far, and the highest seq among them (0 when none) */
  get totals(): { changes: number; lastSeq: number } {
    return { changes: this.announced, lastSeq: this.last };
  }

  /** Resolves once every announcement made so far was sent (or logged as not sent). */
  drain(): Promise<void> {
    return this.chain;
  }

  private async send(changes: MailChange[], folders: FolderCounts[]): Promise<void> {
    const counts = folders.slice(0, MAX_FOLDERS_PER_EVENT);
    for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_EVENT) {
      const part = changes.slice(i, i + MAX_CHANGES_PER_EVENT);
      const seq = part[part.length - 1].seq;
      try {
        await this.publish({
          type: 'mail.changed',
          v: 1,
          accountId: this.account.id,
          userId: this.account.userId,
          seq,
          changes: part,
          folders: counts,
          ...(this.notifiedAt === undefined ? {} : { notifiedAt: this.notifiedAt }),
          at: new Date().toISOString(),
        });
      } catch (err) {
        this.logger.warn(
          `mail.changed of account ${this.account.id} up to seq ${seq} not published: ${describeError(err)}`,
        );
      }
    }
  }
}
