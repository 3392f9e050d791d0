import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { AdminHooks } from './faults/admin-hooks';
import { FaultsService } from './faults/faults.service';
import { StatsService } from './faults/stats.service';
import { GraphRouter } from './graph/graph-router';
import { MailboxStore } from './store/mailbox-store';

export const EMULATOR_CONFIG = Symbol('EMULATOR_CONFIG');

/** the emulator's shared state: configuration, mailboxes, faults and stats, one instance each */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: EmulatorConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: EMULATOR_CONFIG, useValue: config },
        MailboxStore,
        { provide: FaultsService, useFactory: () => new FaultsService(config.throttling) },
        StatsService,
        GraphRouter,
        AdminHooks,
      ],
      exports: [EMULATOR_CONFIG, MailboxStore, FaultsService, StatsService, GraphRouter, AdminHooks],
    };
  }
}
