import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { Topics } from '@email-core/contracts';
import {
  CredentialsNotFoundError,
  diffFolderStatuses,
  parseImapSettings,
  ProviderRegistry,
  ReauthRequiredError,
  type FolderStatuses,
  type HostPolicy,
  type ImapAccountSettings,
} from '@email-core/providers';
import { KafkaTopics } from '../messaging/kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from '../messaging/messaging.tokens';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';
import { PartitionAssignments } from '../messaging/partition-assignments';
import { PeriodicTask } from '../messaging/periodic-task';
import { ownedAccounts, planConnections } from './connection-plan';
import { IdlePokes } from './idle-pokes';
import {
  IMAP_IDLE_SETTINGS,
  IMAP_WATCH_DRIVER,
  type IdleConnectionHandle,
  type ImapIdleSettings,
  type ImapWatchDriver,
} from './imap-idle.settings';
import { ImapAccounts } from './imap-accounts';
import { PokeCoalescer } from './poke-coalescer';
import { reconnectDelayMs } from './reconnect-backoff';

/** the provider name whose accounts are watched here */
const IMAP = 'imap';
/** a connection that lived this long resets its backoff when it drops */
const STABLE_MS = 60_000;

/** One account with an IDLE connection (or on its way to one). */
interface IdleWatch {
  id: string;
  connection?: IdleConnectionHandle;
  /** a connect in progress */
  opening?: Promise<void>;
  /** the next reconnect */
  retry?: NodeJS.Timeout;
  /** reconnects since the connection was last stable */
  attempt: number;
  stopped: boolean;
}

export interface ImapIdleState {
  /** accounts with an IDLE connection up */
  connected: string[];
  /** of `connected`, those whose other folders come through NOTIFY (the rest: STATUS polls on the connection) */
  notifying: string[];
  /** accounts with an IDLE connection planned (up, opening, or waiting to reconnect) */
  idle: string[];
  /** accounts beyond the budget, polled */
  polled: string[];
  /** accounts stopped after a refused login, until they are linked again */
  halted: string[];
}

/**
 * The IMAP watcher: live changes of the IMAP accounts this process owns, as `mailbox.poke`s of source 'idle'.
 *
 * - **Ownership**: an account is watched by the process whose pokes consumer holds the account's partition of the
 *   pokes topic (keys are account ids; `partitionOfKey` is the publisher's murmur2). When partitions move (a
 *   rebalance), the accounts no longer owned are closed and the new ones opened. Nothing is watched before the
 *   first assignment.
 * - **Budget**: up to `maxConnections` owned accounts get an IDLE connection on INBOX, whose other folders come
 *   through NOTIFY on the same connection where the server has it (an unsolicited STATUS per change), otherwise
 *   are STATUS-polled on it every `statusPollMs`; the rest are polled (STATUS of every folder on a short session)
 *   at the same interval.
 * - **Pokes**: EXISTS / EXPUNGE / FETCH from IDLE, a NOTIFY STATUS and a changed polled STATUS name their folder
 *   (a NOTIFY LIST, a folder created or deleted: every folder); a burst of an account
 *   is coalesced into one poke. Every (re)connect and an account's first poll poke every folder (what happened
 *   while nobody watched).
 * - **Failures**: a lost connection reconnects with exponential backoff and jitter. A refused login marks
 *   nothing here: it pokes the account, so the round's error path (`AccountFailures`) makes it
 *   `reauth_required`, and the account is left alone until it is linked again (its sealed settings change).
 */
@Injectable()
export class ImapIdleWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ImapIdleWatcher');
  private readonly watches = new Map<string, IdleWatch>();
  /** polled accounts and their folders' last STATUS (undefined before the first poll) */
  private readonly polled = new Map<string, FolderStatuses | undefined>();
  /** accounts stopped after a refused login, with the credential tag they failed with */
  private readonly halted = new Map<string, string>();
  private tags = new Map<string, string>();
  private readonly coalescer: PokeCoalescer;
  private readonly policy: HostPolicy;
  private readonly refreshTask: PeriodicTask;
  private readonly pollTask: PeriodicTask;
  private partitionCount: number | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshQueued: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private unlisten: (() => void) | undefined;
  private stopped = false;

  constructor(
    @Inject(IMAP_IDLE_SETTINGS) private readonly settings: ImapIdleSettings,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly topics: KafkaTopics,
    private readonly assignments: PartitionAssignments,
    private readonly registry: ProviderRegistry,
    private readonly accounts: ImapAccounts,
    private readonly pokes: IdlePokes,
    @Inject(IMAP_WATCH_DRIVER) private readonly driver: ImapWatchDriver,
    private readonly events: DomainEventsPublisher,
  ) {
    this.policy = config.imap;
    this.coalescer = new PokeCoalescer({
      quietMs: settings.coalesceQuietMs,
      maxDelayMs: settings.coalesceMaxDelayMs,
      flush: (accountId, burst) => this.pokes.publish(accountId, burst),
    });
    this.refreshTask = new PeriodicTask(() => this.refresh(), settings.accountsRefreshMs);
    this.pollTask = new PeriodicTask(() => this.pollAll(), settings.statusPollMs);
  }

  onApplicationBootstrap(): void {
    if (!this.settings.enabled) return;
    this.unsubscribe = this.assignments.onChange((topic) => {
      if (topic !== Topics.mailboxPokes) return;
      this.partitionCount = undefined; // the topic may have grown
      this.refresh().catch(() => undefined);
    });
    // an account synced here that is not watched yet (just linked, or linked again after a refused login) is
    // taken now rather than at the next periodic read of the accounts
    this.unlisten = this.events.onPublished((event) => {
      const known = this.watches.has(event.accountId) || this.polled.has(event.accountId);
      if (event.type !== 'sync.completed' || known || this.stopped) return;
      this.refresh().catch(() => undefined);
    });
    this.refreshTask.start(0);
    this.pollTask.start(this.settings.statusPollMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unlisten?.();
    await Promise.all([this.refreshTask.stop(), this.pollTask.stop()]);
    await this.refreshing;
    await this.refreshQueued;
    const closing = [...this.watches.values()].map((w) => this.stopWatch(w));
    this.polled.clear();
    await Promise.allSettled(closing);
    this.coalescer.flushAll();
    await this.pokes.drain();
    if (closing.length > 0) this.logger.log(`${closing.length} IMAP IDLE connection(s) closed`);
  }

  /** what is watched how, now (tests, diagnostics) */
  state(): ImapIdleState {
    const watches = [...this.watches.values()];
    return {
      connected: watches.filter((w) => w.connection).map((w) => w.id),
      notifying: watches.filter((w) => w.connection?.notifying).map((w) => w.id),
      idle: watches.map((w) => w.id),
      polled: [...this.polled.keys()],
      halted: [...this.halted.keys()],
    };
  }

  /**
   * Reads the linked IMAP accounts and the assignment again, and opens / closes / moves connections to match.
   * Resolves once a run that started after the call has finished; calls during a run share one more run after it.
   */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.refreshing) {
      this.refreshing = this.refreshNow()
        .catch((err: unknown) => this.logger.warn(`IMAP accounts not refreshed: ${(err as Error).message}`))
        .finally(() => {
          this.refreshing = undefined;
        });
      return this.refreshing;
    }
    this.refreshQueued ??= this.refreshing.then(() => {
      this.refreshQueued = undefined;
      return this.refresh();
    });
    return this.refreshQueued;
  }

  private async refreshNow(): Promise<void> {
    // the database migrated and the topics there (the workers' own gate): until then nothing is owned anyway
    if (!(await this.topics.ready())) return;
    const assigned = this.assignments.of(Topics.mailboxPokes);
    const linked = await this.accounts.linked();
    this.tags = new Map(linked.map((a) => [a.id, a.credentialTag]));
    // linked again (new settings) or gone (unlinked, or now reauth_required and so not listed): forget the halt
    for (const [id, tag] of this.halted) if (this.tags.get(id) !== tag) this.halted.delete(id);
    const candidates = linked.map((a) => a.id).filter((id) => !this.halted.has(id));
    const count = assigned && assigned.size > 0 ? await this.partitions() : undefined;
    const owned = ownedAccounts(candidates, assigned, count);
    const plan = planConnections(owned, new Set(this.watches.keys()), this.settings.maxConnections);
    if (this.stopped) return;

    const idle = new Set(plan.idle);
    const polled = new Set(plan.polled);
    const closing: Array<Promise<void>> = [];
    for (const w of [...this.watches.values()]) if (!idle.has(w.id)) closing.push(this.stopWatch(w));
    for (const id of [...this.polled.keys()]) if (!polled.has(id)) this.polled.delete(id);
    for (const id of plan.idle) if (!this.watches.has(id)) this.startWatch(id);
    for (const id of plan.polled) if (!this.polled.has(id)) this.polled.set(id, undefined);
    await Promise.allSettled(closing);
    if (closing.length > 0 || plan.idle.length + plan.polled.length > 0) {
      this.logger.debug(
        `IMAP accounts owned: ${owned.length} (${plan.idle.length} IDLE, ${plan.polled.length} polled); ` +
          `${closing.length} connection(s) closed`,
      );
    }
  }

  /** the pokes topic's partition count (fetched once per assignment) */
  private async partitions(): Promise<number | undefined> {
    if (this.partitionCount !== undefined) return this.partitionCount;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const name = this.topics.name(Topics.mailboxPokes);
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      const count = metadata.topics.find((t) => t.name === name)?.partitions.length;
      this.partitionCount = count && count > 0 ? count : undefined;
      return this.partitionCount;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  // ---- IDLE connections ----

  private startWatch(id: string): void {
    const w: IdleWatch = { id, attempt: 0, stopped: false };
    this.watches.set(id, w);
    this.connect(w);
  }

  private async stopWatch(w: IdleWatch): Promise<void> {
    w.stopped = true;
    clearTimeout(w.retry);
    if (this.watches.get(w.id) === w) this.watches.delete(w.id);
    await w.opening;
    const connection = w.connection;
    w.connection = undefined;
    await connection?.close();
  }

  private connect(w: IdleWatch): void {
    if (w.stopped || this.stopped) return;
    w.opening = this.open(w).finally(() => {
      w.opening = undefined;
    });
  }

  private async open(w: IdleWatch): Promise<void> {
    let connection: IdleConnectionHandle;
    try {
      const settings = await this.settingsOf(w.id);
      if (w.stopped) return;
      connection = await this.driver.start({
        server: settings.imap,
        policy: this.policy,
        statusPollMs: this.settings.statusPollMs,
        onChange: (change) => this.coalescer.add(w.id, change),
        onWarning: (err) =>
          this.logger.debug(`IMAP account ${w.id}: STATUS poll / IDLE renewal failed (${err.message})`),
      });
    } catch (err) {
      if (!w.stopped) this.refused(w, err);
      return;
    }
    if (w.stopped || this.stopped) {
      await connection.close();
      return;
    }
    w.connection = connection;
    const since = Date.now();
    // whatever happened while nobody watched (first connect, or a reconnect): every folder catches up
    this.coalescer.add(w.id, { kind: 'everyFolder' });
    void connection.ended.then((reason) => {
      if (w.connection === connection) w.connection = undefined;
      if (!reason || w.stopped || this.stopped) return;
      if (Date.now() - since >= STABLE_MS) w.attempt = 0;
      this.logger.warn(`IMAP IDLE of account ${w.id} lost (${reason.message}); reconnecting`);
      this.reconnectLater(w);
    });
  }

  /** connecting failed: stop for good after a refused login, otherwise try again later */
  private refused(w: IdleWatch, err: unknown): void {
    if (this.halt(w.id, err)) {
      void this.stopWatch(w);
      return;
    }
    // the first failure and every 10th after it are warnings; the retries between them are debug noise
    const log = w.attempt % 10 === 0 ? 'warn' : 'debug';
    this.logger[log](
      `IMAP IDLE of account ${w.id} could not connect (${(err as Error).message}; attempt ${w.attempt + 1})`,
    );
    this.reconnectLater(w);
  }

  private reconnectLater(w: IdleWatch): void {
    if (w.stopped || this.stopped) return;
    const delay = reconnectDelayMs(w.attempt++, {
      baseMs: this.settings.reconnectBaseMs,
      maxMs: this.settings.reconnectMaxMs,
    });
    clearTimeout(w.retry);
    w.retry = setTimeout(() => this.connect(w), delay);
    w.retry.unref();
  }

  /**
   * A refused login (or settings only the user can fix): the account is left alone until it is linked again, and
   * poked, so the round's error path marks it `reauth_required` and tells its user. No credentials at all: left
   * alone, nothing to poke. True when the account was halted.
   */
  private halt(id: string, err: unknown): boolean {
    if (err instanceof CredentialsNotFoundError) {
      this.halted.set(id, this.tags.get(id) ?? '');
      this.logger.warn(`IMAP account ${id} has no usable settings: not watched`);
      return true;
    }
    if (!(err instanceof ReauthRequiredError)) return false;
    this.halted.set(id, this.tags.get(id) ?? '');
    this.polled.delete(id);
    this.logger.warn(`IMAP account ${id}: ${err.message}; not watched until it is linked again`);
    this.coalescer.add(id, { kind: 'everyFolder' });
    return true;
  }

  private async settingsOf(accountId: string): Promise<ImapAccountSettings> {
    const vault = this.registry.adapter(IMAP).vault;
    return parseImapSettings(accountId, await vault.credentialFor(accountId));
  }

  // ---- polled accounts ----

  /** polls every account beyond the budget now (the periodic task's work; tests) */
  pollNow(): Promise<void> {
    return this.pollAll();
  }

  private async pollAll(): Promise<void> {
    const ids = [...this.polled.keys()];
    let next = 0;
    const worker = async () => {
      while (!this.stopped && next < ids.length) {
        const id = ids[next++];
        if (this.polled.has(id)) await this.pollOne(id);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.settings.pollConcurrency) }, worker));
  }

  private async pollOne(id: string): Promise<void> {
    let statuses: FolderStatuses;
    try {
      const settings = await this.settingsOf(id);
      statuses = await this.driver.poll(settings.imap, this.policy);
    } catch (err) {
      if (!this.halt(id, err)) {
        this.logger.debug(`IMAP account ${id}: STATUS poll failed (${(err as Error).message})`);
      }
      return;
    }
    if (!this.polled.has(id)) return; // no longer ours
    const prev = this.polled.get(id);
    this.polled.set(id, statuses);
    if (!prev) {
      this.coalescer.add(id, { kind: 'everyFolder' });
      return;
    }
    for (const change of diffFolderStatuses(prev, statuses)) this.coalescer.add(id, change);
  }
}
