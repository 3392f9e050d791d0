import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { describeError } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';
import { PeriodicTask } from '../messaging/periodic-task';
import { EnsureSubscriptionCommand } from './commands/ensure-subscription/ensure-subscription.command';
import { SubscriptionKeeper } from './subscription-keeper';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './subscription.settings';
import { MAILBOX_WATCHES, type MailboxWatches } from './watches';

/** accounts read per page of a sweep (the soonest expiries first) */
const BATCH = 200;
/** accounts ensured at once by one process (their writes wait for the deployment's write pace anyway) */
const PARALLEL = 8;
/** an account whose ensure keeps failing waits this long at most between attempts */
const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * The renewal sweep every worker process runs every `checkIntervalMs`: every subscription expiring within the
 * renewal threshold, page after page until none is left, and every synced account of a provider watched through
 * subscriptions without one (a lost `subscription.ensure`, or a removal not yet replaced), each ensured under the
 * account's subscription lock. A lock another worker holds means that worker is on it: the account is skipped.
 * The writes draw on the deployment's write pace (Graph's 1,000 per 20 s), so a sweep over ten thousand due
 * accounts takes as long as the limit needs and no longer, without 429s. All state is in Postgres, so a restart
 * loses nothing; one sweep runs at a time per process, and an account that keeps failing backs off (in memory)
 * instead of being retried every sweep.
 */
@Injectable()
export class SubscriptionRenewalJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SubscriptionRenewal');
  private readonly task: PeriodicTask;
  private stopped = false;
  private readonly failures = new Map<string, { count: number; notBefore: number }>();

  constructor(
    private readonly subscriptions: GraphSubscriptionsRepository,
    private readonly keeper: SubscriptionKeeper,
    private readonly commandBus: CommandBus,
    private readonly topics: KafkaTopics,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
    @Inject(MAILBOX_WATCHES) private readonly watches: MailboxWatches,
  ) {
    this.task = new PeriodicTask(() => this.tick(), settings.checkIntervalMs);
  }

  onApplicationBootstrap(): void {
    this.task.start(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.task.stop();
  }

  private async tick(): Promise<void> {
    try {
      // the database migrated and the topics exist (a created subscription publishes a catch-up round)
      if (!(await this.topics.ready())) return;
      await this.sweep();
    } catch (err) {
      this.logger.warn(`renewal sweep failed: ${describeError(err)}`);
    }
  }

  /** One pass over what is due; resolves when every due account was ensured, skipped or failed. */
  async sweep(now = Date.now()): Promise<void> {
    const before = new Date(now + this.keeper.renewThresholdMs());
    // every subscription due, a page at a time: one page per interval fell behind past a few hundred accounts
    let after: { expiresAt: Date; accountId: string } | undefined;
    while (!this.stopped) {
      const page = await this.subscriptions.expiringBefore(before, BATCH, after);
      const last = page.at(-1);
      // the cursor as read, before the renewals move these rows on
      after = last && { expiresAt: new Date(last.expiresAt.getTime()), accountId: last.accountId };
      await this.ensureAll(
        page.map((s) => s.accountId),
        now,
      );
      if (page.length < BATCH) break;
    }
    // accounts watched over a connection of ours (IMAP IDLE) have no subscription to miss; one that gets none this
    // time (failed, backing off, another worker's) stays in the list, so each page must bring someone new
    const tried = new Set<string>();
    while (!this.stopped) {
      const page = await this.subscriptions.syncedWithout(
        BATCH + tried.size,
        this.watches.channelProviders(),
      );
      const fresh = page.filter((id) => !tried.has(id));
      if (fresh.length === 0) break;
      for (const id of fresh) tried.add(id);
      await this.ensureAll(fresh, now);
      if (page.length < BATCH + tried.size - fresh.length) break;
    }
  }

  private async ensureAll(ids: string[], now: number): Promise<void> {
    const due = [...new Set(ids)].filter((id) => (this.failures.get(id)?.notBefore ?? 0) <= now);
    let next = 0;
    const worker = async () => {
      while (!this.stopped && next < due.length) await this.ensure(due[next++], now);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, due.length) }, worker));
  }

  private async ensure(accountId: string, now: number): Promise<void> {
    try {
      await this.commandBus.execute(new EnsureSubscriptionCommand(accountId, 'renewal', 'skip'));
      this.failures.delete(accountId);
    } catch (err) {
      const count = (this.failures.get(accountId)?.count ?? 0) + 1;
      const wait = Math.min(this.settings.checkIntervalMs * 2 ** count, MAX_BACKOFF_MS);
      this.failures.set(accountId, { count, notBefore: now + wait });
      this.logger.warn(
        `subscription of account ${accountId} not ensured (attempt ${count}, next in ${Math.round(wait / 1000)} s): ${describeError(err)}`,
      );
    }
  }
}
