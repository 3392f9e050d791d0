import { Module, type DynamicModule } from '@nestjs/common';
import type { ConsumerConfig } from '@email-core/config';
import { RECONCILE_CLAIM, RedisReconcileClaim } from './reconcile-claim';
import { ReconcileJob } from './reconcile.job';
import { RECONCILE_SETTINGS, type ReconcileSettings } from './reconcile.settings';
import { SYNCED_ACCOUNTS, SyncedAccounts } from './synced-accounts';

/**
 * The periodic reconciliation (`RECONCILE_INTERVAL_SECONDS`): one worker per interval pokes every synced account
 * for an every-folder round, which the pokes consumer runs. Uses the messaging the mirror module re-exports and
 * the infrastructure (Postgres, Redis Cluster), which AppModule provides.
 */
@Module({})
export class ReconcileModule {
  static forRoot(
    config: ConsumerConfig,
    mirror: DynamicModule,
    overrides: Partial<ReconcileSettings> = {},
  ): DynamicModule {
    const settings: ReconcileSettings = {
      intervalMs: config.reconcile.intervalMs,
      claimKey: `jobs:{reconcile}:${config.kafka.topicPrefix}`,
      pageSize: 500,
      spreadShare: 0.5,
      ...overrides,
    };
    return {
      module: ReconcileModule,
      imports: [mirror],
      providers: [
        { provide: RECONCILE_SETTINGS, useValue: settings },
        { provide: RECONCILE_CLAIM, useClass: RedisReconcileClaim },
        { provide: SYNCED_ACCOUNTS, useClass: SyncedAccounts },
        ReconcileJob,
      ],
    };
  }
}
