import { Module, type DynamicModule } from '@nestjs/common';
import type { ConsumerConfig } from '@email-core/config';
import { ProviderMetrics } from '@email-core/metrics';
import { mailRequestCounters } from '@email-core/providers';
import { ConsumerMetrics } from '../messaging/consumer-metrics';
import { IdlePokes } from './idle-pokes';
import {
  IMAP_IDLE_SETTINGS,
  IMAP_WATCH_DRIVER,
  imapWatchDriverWith,
  type ImapIdleSettings,
  type ImapWatchDriver,
} from './imap-idle.settings';
import { ImapIdleWatcher } from './imap-idle.watcher';
import { ImapAccounts } from './imap-accounts';

const IMAP_WATCH_METRICS = Symbol('IMAP_WATCH_METRICS');

export interface ImapIdleModuleOptions {
  settings?: Partial<ImapIdleSettings>;
  /** the IMAP side (tests); default the adapter's IDLE connection and STATUS poll */
  driver?: ImapWatchDriver;
}

/**
 * IMAP live changes (issue 19): an IDLE connection per owned IMAP account (INBOX) with STATUS polls of its other
 * folders, polling beyond the connection budget, all turned into `mailbox.poke`s of source 'idle'. Uses the mirror
 * module's registry (the IMAP adapter's vault) and messaging (publisher, topics, partition assignments).
 */
@Module({})
export class ImapIdleModule {
  static forRoot(
    config: ConsumerConfig,
    mirror: DynamicModule,
    options: ImapIdleModuleOptions = {},
  ): DynamicModule {
    const settings: ImapIdleSettings = {
      enabled: config.imapIdle.enabled,
      maxConnections: config.imapIdle.maxConnections,
      statusPollMs: config.imapIdle.statusPollMs,
      accountsRefreshMs: 30_000,
      // IMAP servers already batch IDLE updates (Dovecot sends them 500 ms after a change, all at once): a short
      // quiet window still merges one batch's responses without adding much to every change's latency
      coalesceQuietMs: 40,
      coalesceMaxDelayMs: 1_000,
      reconnectBaseMs: 1_000,
      reconnectMaxMs: 5 * 60_000,
      pollConcurrency: 8,
      ...options.settings,
    };
    return {
      module: ImapIdleModule,
      imports: [mirror],
      providers: [
        { provide: IMAP_IDLE_SETTINGS, useValue: settings },
        {
          // the adapter's IDLE connections and polls count their IMAP requests in the app's metrics
          provide: IMAP_WATCH_DRIVER,
          inject: [{ token: ProviderMetrics, optional: true }],
          useFactory: (metrics: ProviderMetrics | undefined) =>
            options.driver ?? imapWatchDriverWith(metrics ? mailRequestCounters(metrics).imap : undefined),
        },
        ImapAccounts,
        IdlePokes,
        ImapIdleWatcher,
        {
          // email_core_imap_watched_accounts{state}: the watcher's state, read at each scrape
          provide: IMAP_WATCH_METRICS,
          inject: [ConsumerMetrics, ImapIdleWatcher],
          useFactory: (metrics: ConsumerMetrics, watcher: ImapIdleWatcher) =>
            metrics.countImapWatchesWith(() => {
              const s = watcher.state();
              return {
                idle_notify: s.notifying.length,
                idle_status_poll: s.connected.length - s.notifying.length,
                idle_connecting: s.idle.length - s.connected.length,
                polled: s.polled.length,
                halted: s.halted.length,
              };
            }),
        },
      ],
      exports: [ImapIdleWatcher],
    };
  }
}
