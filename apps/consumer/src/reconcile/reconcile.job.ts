import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { everyFolderPoke, mailboxPokeSchema, Topics, type MailboxPoke } from '@email-core/contracts';
import { describeError, KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';
import { PeriodicTask } from '../messaging/periodic-task';
import { RECONCILE_CLAIM, type ReconcileClaimPort } from './reconcile-claim';
import { checkEveryMs, RECONCILE_SETTINGS, type ReconcileSettings } from './reconcile.settings';
import { SYNCED_ACCOUNTS, type SyncedAccountsPort } from './synced-accounts';

/**
 * The periodic reconciliation. Graph may drop change notifications without a `missed` lifecycle event, which
 * would leave the mirror stale until the next change: every `intervalMs` one worker process (whichever claims the
 * turn first; the claim keeps the others out for the interval) publishes a `mailbox.poke` with `everyFolder` (source
 * 'reconcile') for each synced account, keyed by account, to the pokes topic. The pokes consumer runs it like any
 * round of the mirror core, under the mailbox lock, spread over the workers by partition: a folder-tree refresh
 * and every folder's changes from its stored cursor, so an unchanged mailbox costs one empty page per folder,
 * never a resync, and writes nothing (no transaction, no cache version bump: `FolderDeltaService`). The pokes are
 * spread over half the interval (`spreadShare`), a slice a second, rather than published at once: the rounds then
 * take their turn beside live changes instead of queueing ahead of them.
 */
@Injectable()
export class ReconcileJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconcile');
  private readonly task: PeriodicTask | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();

  /** waits between slices, cut short by shutdown (tests replace it) */
  sleep: (ms: number) => Promise<void> = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stopping.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });

  constructor(
    @Inject(SYNCED_ACCOUNTS) private readonly accounts: SyncedAccountsPort,
    @Inject(RECONCILE_CLAIM) private readonly claim: ReconcileClaimPort,
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
    @Inject(RECONCILE_SETTINGS) private readonly settings: ReconcileSettings,
  ) {
    if (settings.intervalMs > 0) {
      this.task = new PeriodicTask(() => this.tick(), checkEveryMs(settings.intervalMs));
    }
  }

  onApplicationBootstrap(): void {
    // not at once: a (re)started worker has just synced or is about to; the first round is an interval away
    this.task?.start(this.settings.intervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.task?.stop();
  }

  private async tick(): Promise<void> {
    try {
      if (!(await this.topics.ready())) return;
      await this.runIfDue();
    } catch (err) {
      this.logger.warn(`reconciliation failed: ${describeError(err)}`);
    }
  }

  /**
   * Takes the turn if nobody holds it and asks every synced account for a round. Returns how many accounts were
   * asked, or null when the turn was not ours.
   */
  async runIfDue(now = new Date()): Promise<number | null> {
    if (this.settings.intervalMs <= 0) return null;
    if (!(await this.claim.claim(this.settings.claimKey, this.settings.intervalMs))) return null;
    const topic = this.topics.name(Topics.mailboxPokes);
    const pace = await this.pace();
    let after: string | null = null;
    let asked = 0;
    while (!this.stopped) {
      const ids = await this.accounts.page(after, this.settings.pageSize);
      if (ids.length === 0) break;
      for (let i = 0; i < ids.length && !this.stopped; i += pace.slice) {
        if (asked > 0 && pace.gapMs > 0) await this.sleep(pace.gapMs);
        const slice = ids.slice(i, i + pace.slice);
        await this.publisher.publishMany<MailboxPoke>(
          topic,
          slice.map((accountId) => ({
            key: accountId,
            value: everyFolderPoke(accountId, 'reconcile', now.toISOString()),
          })),
          { schema: mailboxPokeSchema },
        );
        asked += slice.length;
      }
      after = ids[ids.length - 1];
      if (ids.length < this.settings.pageSize) break;
    }
    this.logger.log(`reconciliation: ${asked} synced account(s) asked for a delta round`);
    return asked;
  }

  /**
   * Slices of the round: all at once without a spread; with one, the accounts there are now spread evenly over
   * that share of the interval, about a slice a second.
   */
  private async pace(): Promise<{ slice: number; gapMs: number }> {
    const share = this.settings.spreadShare ?? 0;
    if (share <= 0) return { slice: this.settings.pageSize, gapMs: 0 };
    const total = await this.accounts.count();
    const perSecond = total / ((this.settings.intervalMs * share) / 1000);
    if (!(perSecond > 0)) return { slice: this.settings.pageSize, gapMs: 0 };
    const slice = Math.min(this.settings.pageSize, Math.max(1, Math.round(perSecond)));
    return { slice, gapMs: (slice / perSecond) * 1000 };
  }
}
