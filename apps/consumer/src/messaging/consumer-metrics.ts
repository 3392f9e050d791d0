import { Injectable } from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';
import { WORK_TOPICS, type MailboxPokeSource, type TopicName } from '@email-core/contracts';
import type { MessageOutcome } from '@email-core/kafka';
import { MetricsRegistry } from '@email-core/metrics';

/** how the IMAP watcher watches an account: an IDLE connection (up with NOTIFY, up with STATUS polls, connecting), polled, halted */
export const IMAP_WATCH_STATES = [
  'idle_notify',
  'idle_status_poll',
  'idle_connecting',
  'polled',
  'halted',
] as const;
export type ImapWatchState = (typeof IMAP_WATCH_STATES)[number];

/** the source of a round run for pokes of several sources at once (they coalesce into one round) */
export const MIXED_SOURCES = 'mixed';

/**
 * The consumer's own metrics, in the process's registry (GET /metrics on its health port). Labels are bounded: a
 * topic is its logical name (`email-core.sync.requests`, never the deployment's prefixed one, so test runs add no
 * series), a provider its registry name, a source one of the pokes' sources; no account or message id anywhere.
 */
@Injectable()
export class ConsumerMetrics {
  private readonly kafkaMessagesTotal: Counter<'topic' | 'outcome'>;
  private readonly messagesWritten: Counter<'provider'>;
  private readonly rounds: Counter<'provider' | 'source'>;
  private imapWatches: () => Record<ImapWatchState, number> | undefined = () => undefined;

  constructor(registry: MetricsRegistry) {
    this.kafkaMessagesTotal = registry.counter({
      name: 'kafka_messages_total',
      help: "Messages the consumer's workers took from a work topic, by outcome: handled, retried (sent to the retry topic), dead_lettered.",
      labelNames: ['topic', 'outcome'],
    });
    // every work topic's outcomes from the start: a first retry or dead letter is a rise, not a new series
    for (const topic of WORK_TOPICS) {
      for (const outcome of ['handled', 'retried', 'dead_lettered'] as const) {
        this.kafkaMessagesTotal.inc({ topic, outcome }, 0);
      }
    }
    this.messagesWritten = registry.counter({
      name: 'sync_messages_written_total',
      help: 'Messages written to the mirror (inserted or changed; a page read again writes none), first syncs and rounds alike, by provider.',
      labelNames: ['provider'],
    });
    this.rounds = registry.counter({
      name: 'mirror_rounds_total',
      help: 'Incremental rounds of a mailbox the mirror core completed (caught up, or found the account needing re-authorization), by provider and the source of the pokes they answered (webhook, idle, reconcile, action, lifecycle; mixed when several).',
      labelNames: ['provider', 'source'],
    });
    const watches: Gauge<'state'> = registry.gauge({
      name: 'imap_watched_accounts',
      help: 'IMAP accounts this consumer watches, by state: idle_notify (IDLE connection up, other folders by NOTIFY), idle_status_poll (up, other folders STATUS-polled on it), idle_connecting (connecting or waiting to reconnect), polled (beyond the connection budget), halted (login refused).',
      labelNames: ['state'],
      collect: () => {
        const counts = this.imapWatches();
        for (const state of IMAP_WATCH_STATES) watches.set({ state }, counts?.[state] ?? 0);
      },
    });
  }

  /** where the IMAP watcher's counts are read at each scrape */
  countImapWatchesWith(read: () => Record<ImapWatchState, number>): void {
    this.imapWatches = read;
  }

  kafkaMessages(topic: TopicName, outcome: MessageOutcome, count = 1): void {
    this.kafkaMessagesTotal.inc({ topic, outcome }, count);
  }

  syncMessagesWritten(provider: string, count: number): void {
    if (count > 0) this.messagesWritten.inc({ provider }, count);
  }

  mirrorRound(provider: string, source: MailboxPokeSource | typeof MIXED_SOURCES): void {
    this.rounds.inc({ provider, source });
  }
}
