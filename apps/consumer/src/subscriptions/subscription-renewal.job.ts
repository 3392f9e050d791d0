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

/** accounts looked at per sweep, from each list (the soonest expiries first) */
const BATCH = 200;
/** accounts ensured at once by one process */
const PARALLEL = 4;
/** an account whose ensure keeps failing waits this long at most between attempts */
const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * The renewal sweep every worker process runs every `checkIntervalMs`: subscriptions expiring within the
 * renewal threshold, and synced accounts of providers watched through subscriptions without one (a lost `subscription.ensure`, or a removal not yet
 * replaced), each ensured under the account's subscription lock. A lock another worker holds means that
 * worker is on it: the account is skipped. All state is in Postgres, so a restart loses nothing; one sweep
 * runs at a time per process, and an account that keeps failing backs off (in memory) instead of being
 * retried every sweep.
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
      // the database migrated and the topics exist (a created subscription publishes a catch-up sync)
      if (!(await this.topics.ready())) return;
      await this.sweep();
    } catch (err) {
      this.logger.warn(`renewal sweep failed: ${describeError(err)}`);
    }
  }

  /** One pass over what is due; resolves when every due account was ensured, skipped or failed. */
  async sweep(now = Date.now()): Promise<void> {
    const expiring = await this.subscriptions.expiringBefore(
      new Date(now + this.keeper.renewThresholdMs()),
      BATCH,
    );
    // accounts watched over a connection of ours (IMAP IDLE) have no subscription to miss
    const without = await this.subscriptions.syncedWithout(BATCH, this.watches.channelProviders());
    const due = [...new Set([...expiring.map((s) => s.accountId), ...without])].filter(
      (id) => (this.failures.get(id)?.notBefore ?? 0) <= now,
    );
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
