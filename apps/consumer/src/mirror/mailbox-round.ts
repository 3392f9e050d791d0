import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { MailboxPoke } from '@email-core/contracts';
import { currentCorrelationId, runWithCorrelation } from '@email-core/logging';
import {
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type FolderSyncState,
} from '@email-core/database';
import { ProviderRegistry, type MailboxReader } from '@email-core/providers';
import { ConsumerMetrics, MIXED_SOURCES } from '../messaging/consumer-metrics';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';
import { AccountFailures } from './account-failures';
import { resolveAffectedFolders } from './affected-folders';
import { ChangeFeed } from './change-feed';
import { coalesce, mergeRounds, namesChanges, type CoalescedRound } from './coalesce';
import { forEachLimit, KeyedSerial } from './concurrency';
import { FolderDeltaService, type FolderDeltaResult } from './folder-delta.service';
import { LOOKUP_CONCURRENCY, locator } from './locate';
import { HeldSnapshot } from './held-snapshot';
import { MailboxLock } from './mailbox-lock';
import { MIRROR_SETTINGS, ROUND_SETTINGS, type MirrorSettings, type RoundSettings } from './mirror.settings';
import { providerOf } from './provider-of';

/** Passes of a round: the poked folders, then the folders removed messages turned up in (moves), once more. */
export const MAX_PASSES = 3;

export type MailboxRoundOutcome =
  /** the affected folders caught up; what changed is logged and announced */
  | 'applied'
  /** no such account, it waits for re-authorization, or its first sync has not completed (that sync covers it) */
  | 'skipped'
  /** the provider refused the account's credentials: the account is `reauth_required` */
  | 'reauth_required';

type Folders = Map<string, FolderSyncState>;

/** the one source of a round's pokes, or `mixed` (the rounds metric's label) */
const sourceLabel = (
  sources: ReadonlySet<MailboxPoke['source']>,
): MailboxPoke['source'] | typeof MIXED_SOURCES => (sources.size === 1 ? [...sources][0] : MIXED_SOURCES);

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** A round of this process that others may still join: its work to come, and who waits for it. */
interface RunningRound {
  /** work that arrived while the round ran: one more pass covers it */
  next: CoalescedRound | undefined;
  /** settled when the pass covering `next` has committed (or failed); each with the correlation id it joined under */
  waiters: Array<{
    resolve: (o: MailboxRoundOutcome) => void;
    reject: (e: unknown) => void;
    correlationId: string | undefined;
  }>;
}

/**
 * The mirror core's incremental round for one mailbox, whoever asks (a watcher's poke, the reconciliation, a mail
 * action), under the mailbox lock: resolve the folders the pokes touch, refresh the folder tree if one of them is
 * new, and read each one's changes from its stored cursor (the same per-folder loop the sync runs), logging and
 * announcing what actually changed. Messages a read removes are looked up once, before the removal: one that still
 * exists moved, goes straight to its new folder in the mirror, and that folder runs in a next pass. The folders
 * are read and written at once, but two pages with a message in common decide (look-ups) and write one after the
 * other, so a page read before a move never writes over what the move's destination wrote after it
 * (`FolderDeltaRun.serial`).
 * Duplicates, reordering and lost pokes all converge, because the provider's changes report the mailbox's true
 * state.
 *
 * Rounds of one mailbox in this process coalesce: a round asked for while another runs does not queue behind the
 * mailbox lock (where it could wait past `lockWaitMs` and go to the retry topic); its work joins the running round,
 * which runs one more pass covering it, and it returns when that pass has committed.
 */
@Injectable()
export class MailboxRound {
  private readonly logger = new Logger('MailboxRound');
  private readonly running = new Map<string, RunningRound>();

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly folders: MailFoldersRepository,
    private readonly messages: MessagesRepository,
    private readonly delta: FolderDeltaService,
    private readonly lock: MailboxLock,
    private readonly failures: AccountFailures,
    private readonly events: DomainEventsPublisher,
    private readonly providers: ProviderRegistry,
    @Inject(MIRROR_SETTINGS) private readonly mirror: MirrorSettings,
    @Inject(ROUND_SETTINGS) private readonly settings: RoundSettings,
    @Optional() private readonly metrics?: ConsumerMetrics,
  ) {}

  /** One round for an account's pokes (their union; every folder when one of them asks for it). */
  async run(
    accountId: string,
    pokes: readonly MailboxPoke[],
    signal: AbortSignal = new AbortController().signal,
  ): Promise<MailboxRoundOutcome> {
    const account = await this.accounts.findForSync(accountId);
    if (!account || account.status === 'reauth_required' || !account.syncCompletedAt) {
      // the first sync, still to complete, mirrors whatever these pokes are about
      this.logger.debug(
        `${pokes.length} poke(s) of account ${accountId} skipped: ${
          !account
            ? 'no such account'
            : account.syncCompletedAt
              ? 'it needs re-authorization'
              : 'not synced yet'
        }`,
      );
      return 'skipped';
    }
    if (pokes.length === 0) return 'applied';
    // a completed round (caught up, or the account found needing re-authorization), joined or run here
    const work = coalesce(pokes);
    // read now: rounds that join later merge their pokes into `work`
    const source = sourceLabel(work.sources);
    const completed = (outcome: MailboxRoundOutcome): MailboxRoundOutcome => {
      this.metrics?.mirrorRound(providerOf(account).provider, source);
      return outcome;
    };
    const joined = this.join(account.id, work, signal);
    if (joined) return joined.then(completed);
    const state: RunningRound = { next: undefined, waiters: [] };
    this.running.set(account.id, state);
    const done = () => {
      if (this.running.get(account.id) === state) this.running.delete(account.id);
    };
    try {
      const result = await this.lock.run(account.id, this.settings.lockWaitMs, signal, async (locked) => {
        const outcome = await this.settle(account, work, locked);
        // whoever joined meanwhile: one more pass each time, under the same lock, until nobody is left
        for (let more = this.take(state); more; more = this.take(state)) {
          const { next, waiters } = more;
          try {
            const o = await this.joinedPass(account, next, waiters, locked);
            for (const w of waiters) w.resolve(o);
          } catch (err) {
            for (const w of waiters) w.reject(err);
            throw err;
          }
        }
        // nothing left to join (same tick as the last check): later rounds take the lock themselves
        done();
        return outcome;
      });
      return completed(result);
    } catch (err) {
      // the round failed, or never had the lock: whoever joined it is retried like it
      done();
      const left = this.take(state);
      for (const w of left?.waiters ?? []) w.reject(err);
      throw err;
    }
  }

  /** Joins a round of this process already running for the account; undefined when there is none. */
  private join(
    accountId: string,
    work: CoalescedRound,
    signal: AbortSignal,
  ): Promise<MailboxRoundOutcome> | undefined {
    const state = this.running.get(accountId);
    if (!state) return undefined;
    state.next = state.next ? mergeRounds(state.next, work) : work;
    return new Promise<MailboxRoundOutcome>((resolve, reject) => {
      const onAbort = () => reject(asError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      state.waiters.push({
        correlationId: currentCorrelationId(),
        resolve: (o) => {
          signal.removeEventListener('abort', onAbort);
          resolve(o);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(asError(e));
        },
      });
    });
  }

  private take(state: RunningRound): { next: CoalescedRound; waiters: RunningRound['waiters'] } | undefined {
    if (!state.next) return undefined;
    const taken = { next: state.next, waiters: state.waiters };
    state.next = undefined;
    state.waiters = [];
    return taken;
  }

  /**
   * The pass for rounds that joined a running one: under the first joiner's correlation id (its log lines and the
   * events it publishes carry it), saying which other ids it also answers.
   */
  private joinedPass(
    account: AccountForSync,
    work: CoalescedRound,
    waiters: RunningRound['waiters'],
    signal: AbortSignal,
  ): Promise<MailboxRoundOutcome> {
    const ids = [...new Set(waiters.map((w) => w.correlationId))].filter((id): id is string => !!id);
    return runWithCorrelation(ids[0], () => {
      this.logger.log(
        `account ${account.id}: one more pass for ${waiters.length} joined round(s)` +
          (ids.length > 1 ? `, also for correlation ids ${ids.slice(1, 21).join(', ')}` : ''),
      );
      return this.settle(account, work, signal);
    });
  }

  private async settle(
    account: AccountForSync,
    work: CoalescedRound,
    signal: AbortSignal,
  ): Promise<MailboxRoundOutcome> {
    try {
      await this.apply(account, work, signal);
      return 'applied';
    } catch (err) {
      return this.failures.settle(err, account);
    }
  }

  private async apply(account: AccountForSync, work: CoalescedRound, signal: AbortSignal): Promise<void> {
    const round = namesChanges(work) ? work : undefined;
    const reconcile = work.everyFolder;
    const client = this.providers.mailbox(providerOf(account));
    // a reconciliation answers no poke: its announcements carry no notification time
    const feed = new ChangeFeed(
      account,
      (e) => this.events.publish(e),
      this.logger,
      reconcile ? undefined : round?.notifiedAt,
    );
    try {
      let known: Folders;
      let targets: Set<string>;
      // where the poked messages were when the round began, for its first pass's pages (`HeldSnapshot`)
      let snapshot: HeldSnapshot | undefined;
      if (reconcile || !round) {
        // every folder (and the tree itself, which a lost poke may also have changed; the mirror's folders are
        // read while it is fetched, and an unchanged tree writes nothing)
        const stored = this.knownFolders(account.id);
        stored.catch(() => undefined); // awaited in the refresh (unless the tree's fetch failed first)
        known = await this.refreshFolders(account, client, feed, stored);
        targets = new Set(known.keys());
      } else {
        // the folders and where the mirror holds the poked messages, read at once (two queries, one wait)
        const held =
          round.unidentified === 0 && round.changes.size > 0
            ? this.messages.foldersOf(account.id, [...round.changes.keys()])
            : undefined;
        held?.catch(() => undefined); // awaited below (unless the folders' read failed first)
        known = await this.knownFolders(account.id);
        const affected = await resolveAffectedFolders(
          round,
          new Set(known.keys()),
          {
            mirrorFolders: (ids) => held ?? this.messages.foldersOf(account.id, ids),
            providerFolderOf: (id) => client.folderOf(id),
          },
          { maxLookups: this.settings.maxLookups, concurrency: LOOKUP_CONCURRENCY },
        );
        signal.throwIfAborted();
        if (affected.unknown.size > 0) known = await this.refreshFolders(account, client, feed);
        // exact while only this round's pages write (no refresh came between: it deletes a vanished folder's rows)
        else if (held) {
          const ids = round.changes.keys();
          snapshot = await held.then(
            (h) => new HeldSnapshot(h, ids),
            () => undefined, // the pages read the rows (as when this read is not made)
          );
        }
        // a poked folder the mirror still does not know (a name rather than an id, say): every folder runs
        const unplaced = [...round.folders].some((f) => !known.has(f));
        targets = affected.everyFolder || unplaced ? new Set(known.keys()) : affected.folders;
      }
      // a page of any folder, in any pass, decides and writes holding its messages (`FolderDeltaRun.serial`)
      const serial = new KeyedSerial();
      for (let pass = 1; targets.size > 0; pass += 1) {
        if (pass > 1) known = await this.knownFolders(account.id); // the cursors the last pass stored
        // a folder still unknown after a refresh is one the mirror does not keep (hidden): nothing to run
        const run = [...targets].flatMap((id) => known.get(id) ?? []);
        const results = await this.runFolders(account, client, run, feed, serial, signal, snapshot);
        // a later pass comes after look-ups and maybe a refresh: its pages read the rows
        snapshot = undefined;
        // A reconciliation just ran every folder, after every change it answers: a move's source and
        // destination both reported it (a removal deletes only from the folder that reports it), so there is
        // nothing to look up. What changes meanwhile is poked, or found by the next reconciliation.
        if (pass >= MAX_PASSES || reconcile) break;
        const next = await this.followUp(account, client, run, results, known, feed);
        known = next.known;
        targets = next.targets;
      }
    } finally {
      await feed.drain();
    }
    const { changes, lastSeq } = feed.totals;
    // one line per round, under the correlation id of what poked it (the webhook's, the IDLE poke's, ...), naming
    // who asked: e.g. `(webhook)`, `(reconcile, every folder)`, `(lifecycle, every folder)` for a catch-up
    this.logger.log(
      `round for account ${account.id}: ${round?.notifications ?? 0} poke(s), ${round?.items ?? 0} change(s)` +
        ` (${[...work.sources].sort().join(', ')}${reconcile ? ', every folder' : ''})` +
        ` -> ${changes} change(s)${changes > 0 ? ` up to seq ${lastSeq}` : ''}`,
    );
  }

  private async runFolders(
    account: AccountForSync,
    client: MailboxReader,
    folders: FolderSyncState[],
    feed: ChangeFeed,
    serial: KeyedSerial,
    signal: AbortSignal,
    held?: HeldSnapshot,
  ): Promise<FolderDeltaResult[]> {
    const results: FolderDeltaResult[] = [];
    const locate = locator(client, this.settings.maxLookups);
    await forEachLimit(folders, this.mirror.folderParallelism, signal, async (folder, folderSignal) => {
      results.push(
        await this.delta.syncFolder({
          account,
          client,
          folder,
          signal: folderSignal,
          feed,
          locate,
          serial,
          ...(held ? { held } : {}),
        }),
      );
    });
    return results;
  }

  /**
   * What a pass turned up for the next one. A message a read removed may only have moved (the provider names a
   * move's destination in a poke that can come late or never): where it is now decides. A folder that lost its
   * cursor was rebuilt from scratch, which hides where its old messages went: every other folder runs.
   */
  private async followUp(
    account: AccountForSync,
    client: MailboxReader,
    ran: FolderSyncState[],
    results: FolderDeltaResult[],
    known: Folders,
    feed: ChangeFeed,
  ): Promise<{ targets: Set<string>; known: Folders }> {
    const justRan = new Set(ran.map((f) => f.graphId));
    const everyOther = () => new Set([...known.keys()].filter((id) => !justRan.has(id)));
    if (results.some((r) => r.reset)) return { targets: everyOther(), known };
    const located = new Map(results.flatMap((r) => [...r.locations]));
    const unknown = [...new Set(results.flatMap((r) => r.removedIds))].filter((id) => !located.has(id));
    if (located.size === 0 && unknown.length === 0) return { targets: new Set(), known };
    const more = await locator(client, this.settings.maxLookups)(unknown);
    if (!more) return { targets: everyOther(), known };
    const now = [...located.values(), ...more.values()];
    // a message moved straight to its new folder still has its old data: that folder's read refreshes it
    const targets = new Set(now.filter((f): f is string => f !== null));
    if ([...targets].some((f) => !known.has(f))) {
      return { targets, known: await this.refreshFolders(account, client, feed) };
    }
    return { targets, known };
  }

  private async refreshFolders(
    account: AccountForSync,
    client: MailboxReader,
    feed: ChangeFeed,
    stored?: Promise<Folders>,
  ): Promise<Folders> {
    const refreshed = await this.delta.refreshFolders(account, client, feed, stored);
    return refreshed.unchanged && stored ? stored : this.knownFolders(account.id);
  }

  private async knownFolders(accountId: string): Promise<Folders> {
    return new Map((await this.folders.listForSync(accountId)).map((f) => [f.graphId, f]));
  }
}
