import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DatabaseState, MailChangesRepository } from '@email-core/database';
import { describeError } from '@email-core/kafka';
import { PeriodicTask } from '../messaging/periodic-task';
import { ROUND_SETTINGS, type RoundSettings } from './mirror.settings';

/**
 * Keeps the change log (`mail_changes`) to its catch-up window: every `pruneIntervalMs` each worker process
 * deletes the entries older than `changesRetentionHours`. The delete is idempotent and indexed (`at`), so it does
 * not matter that every process runs it; a client asking for changes older than the window is told to reload.
 */
@Injectable()
export class MailChangesPruneJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailChangesPrune');
  private readonly task: PeriodicTask;

  constructor(
    private readonly changes: MailChangesRepository,
    private readonly database: DatabaseState,
    @Inject(ROUND_SETTINGS) private readonly settings: RoundSettings,
  ) {
    this.task = new PeriodicTask(() => this.tick(), settings.pruneIntervalMs);
  }

  onApplicationBootstrap(): void {
    this.task.start(Math.min(60_000, this.settings.pruneIntervalMs));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One prune; returns how many entries went. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.settings.changesRetentionHours * 3_600_000);
    const removed = await this.changes.prune(cutoff);
    if (removed > 0)
      this.logger.log(`pruned ${removed} change log entries older than ${cutoff.toISOString()}`);
    return removed;
  }

  private async tick(): Promise<void> {
    if (!this.database.migrated) return;
    try {
      await this.prune();
    } catch (err) {
      this.logger.warn(`change log prune failed: ${describeError(err)}`);
    }
  }
}
