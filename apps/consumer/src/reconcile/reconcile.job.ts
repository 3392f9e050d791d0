import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { mailboxPokeSchema, Topics, type MailboxPoke } from '@email-core/contracts';
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
 * never a resync.
 */
@Injectable()
export class ReconcileJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconcile');
  private readonly task: PeriodicTask | undefined;
  private stopped = false;

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
    let after: string | null = null;
    let asked = 0;
    while (!this.stopped) {
      const ids = await this.accounts.page(after, this.settings.pageSize);
      if (ids.length === 0) break;
      await this.publisher.publishMany<MailboxPoke>(
        topic,
        ids.map((accountId) => ({
          key: accountId,
          value: {
            type: 'mailbox.poke',
            v: 1,
            accountId,
            source: 'reconcile',
            changes: [],
            everyFolder: true,
            receivedAt: now.toISOString(),
          },
        })),
        { schema: mailboxPokeSchema },
      );
      asked += ids.length;
      after = ids[ids.length - 1];
      if (ids.length < this.settings.pageSize) break;
    }
    this.logger.log(`reconciliation: ${asked} synced account(s) asked for a delta round`);
    return asked;
  }
}
