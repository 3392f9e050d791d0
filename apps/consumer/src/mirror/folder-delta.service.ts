import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { FolderCounts, MailChange } from '@email-core/contracts';
import {
  holdsTree,
  inGenericPlanTransaction,
  MailChangesRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type AppliedPage,
  type FolderSyncState,
  type NewMailChange,
  type UpsertFoldersResult,
} from '@email-core/database';
import {
  CursorLostError,
  type ChangesFrom,
  type ChangesPage,
  type MailboxReader,
} from '@email-core/providers';
import { ConsumerMetrics } from '../messaging/consumer-metrics';
import { AccountCacheVersion } from './account-cache-version';
import type { ChangeFeed } from './change-feed';
import { KeyedSerial } from './concurrency';
import type { HeldSnapshot } from './held-snapshot';
import type { Locate } from './locate';
import { MIRROR_SETTINGS, type MirrorSettings } from './mirror.settings';
import { PageWriters } from './page-writers';
import { providerOf } from './provider-of';

/** A folder whose token keeps expiring right after a reset is not reset forever: the message is retried later. */
export const MAX_RESETS_PER_FOLDER = 2;
/** how long a page written beside others may wait for a row lock (see PageWriters) */
export const PAGE_LOCK_TIMEOUT = '20s';
/**
 * The most rows (messages and removals) a live round's page may have to run the prepared page statements with their
 * generic plans (`applyPage`'s `live`); a larger one (a catch-up, a reconciliation of a busy folder) goes as text,
 * planned for its rows like a sync's page. bench:prepared-pages measures where the generic plans stop paying: against
 * text, 1.73x as fast at 5 rows, 1.28x at 25, 1.18x at 100, even (0.95) at 300 (docs/performance.md, session 29).
 */
export const LIVE_PAGE_MAX_ROWS = 100;

export interface FolderDeltaRun {
  account: AccountForSync;
  client: MailboxReader;
  folder: FolderSyncState;
  signal: AbortSignal;
  /**
   * Incremental rounds only (notifications, resyncs of a synced mailbox): each page transaction also logs what
   * it changed (`mail_changes`) with the counts of the folders it touched, and the feed announces it after commit.
   */
  feed?: ChangeFeed;
  /**
   * With a feed: where removed messages are now (null: gone), or undefined when there are too many to look up.
   * A removal is often half of a move; a message found in another folder the mirror keeps moves there in the
   * page's transaction, so it is never missing from the mirror between its old folder's delta and its new one's.
   * A listed message the mirror holds in another folder is written only if the provider has it in this one now.
   */
  locate?: Locate;
  /**
   * With a feed: one for every folder of the round. A page decides from where its messages are now (the mirror's
   * rows, `locate`) and writes holding its message ids (listed and removed), so no other folder's page that lists
   * or removes one of them commits between a look-up and the write that relies on it: the row of a message that
   * moved between two folders read at once is written by the page that saw it last, never over a newer one. Pages
   * without a message in common are written at once. Without it, only the folder's own pages are kept apart.
   */
  serial?: KeyedSerial;
  /**
   * With a feed: where the mirror held the round's poked messages when the round began; a page that lists or
   * removes only ids it still answers for looks them up there instead of reading the rows again (`HeldSnapshot`).
   */
  held?: HeldSnapshot;
  /**
   * Called once the folder's first page arrived, before anything is written: a first sync writes the Inbox's
   * newest messages here (after the delta's first request, so anything changed after that is in the delta's next
   * round and a preview row is never left behind by a message deleted in between). What it resolves to is unused.
   */
  beforeFirstPage?: () => Promise<unknown>;
  /**
   * Awaited before each page is asked from the provider; the page being written meanwhile is not held. A first
   * sync waits here while other mailboxes' first screens are being written (`SyncSlots.yieldToFirstScreens`).
   */
  beforeFetch?: () => Promise<void>;
  /** called after each committed page with its message count and whether the folder reached its deltaLink */
  onPage?: (messages: number, done: boolean) => Promise<void>;
}

export interface RefreshedFolders extends UpsertFoldersResult {
  /** the mailbox's message count: the sum of the provider's `totalItemCount` over the tree just fetched */
  messagesTotal: number;
  /** the mirror already held the tree (`stored` was given and matched): nothing was written */
  unchanged: boolean;
}

export interface FolderDeltaResult {
  pages: number;
  /** with a feed: ids this run removed from the folder's mirror, or moved out of it (a folder reset not included) */
  removedIds: string[];
  /** where `locate` found removed messages: the folder each is in now, or null when it is gone */
  locations: Map<string, string | null>;
  /** the folder's cursor was lost (`CursorLostError`) and it was synced again from scratch */
  reset: boolean;
}

/** a folder row's cursors: where its delta goes on (`nextLink`) or resumes once caught up (`deltaLink`) */
interface StoredLinks {
  nextLink: string | null;
  deltaLink: string | null;
}

/** what `MailFoldersRepository.saveLinks` leaves in the row: a deltaLink clears the nextLink, else it is kept */
const storedAfter = (before: StoredLinks, page: StoredLinks): StoredLinks =>
  page.deltaLink === null
    ? { nextLink: page.nextLink, deltaLink: before.deltaLink }
    : { nextLink: null, deltaLink: page.deltaLink };

const sameLinks = (before: StoredLinks, page: StoredLinks): boolean => {
  const after = storedAfter(before, page);
  return after.nextLink === before.nextLink && after.deltaLink === before.deltaLink;
};

/** the folders whose counts a page's announcement carries: its own, and those a moved message left or went to */
const touchedBy = (folderId: string, applied: AppliedPage): string[] => [
  ...new Set([folderId, ...applied.movedFrom, ...applied.relocated.map((r) => r.folderId)]),
];

interface PageOutcome {
  applied: AppliedPage;
  logged: MailChange[];
  counts: FolderCounts[];
  /** the WAL position read with a live page's commit (the cache version's watermark) */
  walPosition?: number;
}

/**
 * The one per-folder change loop of the mirror core, shared by the mailbox sync and the incremental rounds: from
 * the folder's stored next-page cursor, else its caught-up cursor, else from scratch; each page applied in one
 * transaction together with the folder's next cursor, so a crash resumes after the last committed page and a
 * replayed page changes nothing. A removal only removes from the folder that reports it (a moved message
 * survives its old folder's changes). `CursorLostError` forgets the folder and syncs it again from scratch.
 * The provider is reached only through the port (`MailboxReader`).
 */
@Injectable()
export class FolderDeltaService {
  private readonly logger = new Logger('FolderDelta');

  constructor(
    private readonly dataSource: DataSource,
    private readonly folders: MailFoldersRepository,
    private readonly messages: MessagesRepository,
    private readonly changes: MailChangesRepository,
    private readonly cacheVersion: AccountCacheVersion,
    @Inject(MIRROR_SETTINGS) private readonly settings: MirrorSettings,
    @Optional() private readonly metrics?: ConsumerMetrics,
  ) {}

  /**
   * Makes the mirror's folders the mailbox's tree. With a feed, the messages dropped with folders that are gone
   * are logged as removed in the same transaction. Given the mirror's folders as they are (`stored`, read while
   * the tree is fetched), a tree the mirror already holds writes nothing.
   */
  async refreshFolders(
    account: AccountForSync,
    client: MailboxReader,
    feed?: ChangeFeed,
    stored?: Promise<ReadonlyMap<string, FolderSyncState>>,
  ): Promise<RefreshedFolders> {
    const tree = await client.listFolderTree();
    const totals = new Map(tree.map((f) => [f.id, f.totalItemCount]));
    let messagesTotal = 0;
    for (const n of totals.values()) messagesTotal += n;
    if (stored && holdsTree(await stored, tree))
      return { upserted: 0, removed: 0, messagesTotal, unchanged: true };
    let logged: MailChange[] = [];
    const changed = await this.folders.upsertFolders(
      account.id,
      tree,
      feed
        ? {
            beforeCommit: async (m, dropped) => {
              logged = await this.changes.record(
                m,
                account.id,
                dropped.map((d) => ({ kind: 'removed', messageId: d.id, folderId: d.folderId })),
              );
            },
          }
        : {},
    );
    if (changed.upserted + changed.removed > 0) await this.cacheVersion.bump(account.id);
    feed?.announce(logged, []);
    return { ...changed, messagesTotal, unchanged: false };
  }

  async syncFolder(run: FolderDeltaRun): Promise<FolderDeltaResult> {
    const { account, folder, feed, signal } = run;
    // The next page is fetched while the current one is written (provider and Postgres overlap); its cursor is
    // only stored with its own page, so a crash still resumes after the last committed page.
    const fetchPage = (from: ChangesFrom): Promise<ChangesPage> => {
      const { beforeFetch } = run;
      const page = beforeFetch
        ? beforeFetch().then(() => run.client.changes(from, this.settings.pageSize))
        : run.client.changes(from, this.settings.pageSize);
      page.catch(() => undefined); // awaited below, or abandoned when the folder stops early
      return page;
    };
    let pending = fetchPage(
      folder.nextLink
        ? { cursor: folder.nextLink }
        : folder.deltaLink
          ? { cursor: folder.deltaLink }
          : { folderId: folder.graphId },
    );
    const result: FolderDeltaResult = { pages: 0, removedIds: [], locations: new Map(), reset: false };
    // Without a feed (a first sync), up to `pageWriters` pages are written at once on their own connections;
    // each commits only after the page before it committed (and its after-commit steps ran), so the stored
    // cursor still never runs ahead of a page that is not committed. With a feed, one page at a time: its
    // change log numbers and announcements follow the pages' order.
    const writers = new PageWriters(feed ? 1 : this.settings.pageWriters);
    // With a feed, a page's look-ups (where the messages it removes, or lists from another folder, are now) and
    // its transaction hold its message ids across the round's folders: see `FolderDeltaRun.serial`.
    const serial = feed ? (run.serial ?? new KeyedSerial()) : undefined;
    // a rebuild a crash interrupted goes on from its stored nextLink
    let rebuilding = folder.rebuilding;
    let resets = 0;
    let pages = 0;
    // the folder's links as its row holds them (what the last committed page stored)
    let stored: StoredLinks = { nextLink: folder.nextLink, deltaLink: folder.deltaLink };
    try {
      for (;;) {
        signal.throwIfAborted();
        writers.throwIfFailed();
        let page: ChangesPage;
        try {
          page = await pending;
        } catch (err) {
          if (!(err instanceof CursorLostError) || resets >= MAX_RESETS_PER_FOLDER) throw err;
          await writers.drain();
          resets += 1;
          result.reset = true;
          this.logger.warn(
            `folder ${folder.graphId} of account ${account.id}: cursor lost; syncing it again`,
          );
          await this.dataSource.transaction((m) => this.folders.startRebuild(m, account.id, folder.graphId));
          rebuilding = true;
          stored = { nextLink: null, deltaLink: null };
          pending = fetchPage({ folderId: folder.graphId });
          pages = 0;
          continue;
        }
        if (result.pages === 0 && run.beforeFirstPage) await run.beforeFirstPage();
        const nextLink = page.nextCursor ?? null;
        const deltaLink = page.cursor ?? null;
        if (deltaLink === null && nextLink === null) {
          throw new Error('BAD_CHANGES_PAGE: neither a next-page cursor nor a caught-up cursor');
        }
        if (deltaLink === null && nextLink !== null) pending = fetchPage({ cursor: nextLink });
        const done = deltaLink !== null;
        pages += 1;
        result.pages += 1;
        // the end of a round, and every few pages: the cache moves even when the page changed nothing
        const milestone = done || pages % this.settings.progressEveryPages === 0;
        const finishing = rebuilding && done;
        if (finishing) rebuilding = false;
        const writeRebuild = rebuilding || finishing;
        // a rebuild's end sweeps rows no page names: the round's snapshot no longer answers
        if (writeRebuild) run.held?.drop();
        // An incremental page that lists and removes nothing changes no message, count or change log: only the
        // folder's cursor moves, in one statement and only when it differs from the stored one, and the account's
        // cache (whose reads show no cursor) stays valid. A reconciliation of an unchanged mailbox writes nothing.
        if (feed && !writeRebuild && page.messages.length === 0 && page.removedIds.length === 0) {
          await writers.write([], async (afterPrevious) => {
            await afterPrevious();
            const links = { nextLink, deltaLink };
            if (!sameLinks(stored, links)) {
              await this.folders.saveLinks(this.dataSource.manager, account.id, folder.graphId, links);
              stored = storedAfter(stored, links);
            }
            await run.onPage?.(0, done);
          });
          if (done) {
            await writers.drain();
            return result;
          }
          continue;
        }
        await writers.write(
          page.messages.map((msg) => msg.id),
          async (afterPrevious) => {
            const place = async (): Promise<PageOutcome> => {
              const { relocate, messages: listed } = feed
                ? await this.placePage(run, page, result.locations)
                : { relocate: new Map<string, string>(), messages: page.messages };
              const written = listed === page.messages ? page : { ...page, messages: listed };
              // a live round's page (a few rows): prepared and planned once per connection, not at every change;
              // a sync's pages (hundreds of rows), and a live one as large, as text, planned for their rows
              const live =
                feed !== undefined &&
                written.messages.length + written.removedIds.length <= LIVE_PAGE_MAX_ROWS;
              const write = async (m: EntityManager): Promise<PageOutcome> => {
                // Pages in flight at once never list the same message, so none waits on another's rows. A row they
                // all write (the folder's counts) is written only after `afterPrevious`: a later page holding it
                // while the page before waits for it, and the later one waits for that page's commit, would be a
                // cycle Postgres cannot see. Should one ever arise, the lock timeout turns it into a failed page, and
                // the sync is retried.
                let applied = await this.messages.applyPage(
                  m,
                  account.id,
                  folder.graphId,
                  written,
                  relocate,
                  {
                    ...(writers.parallel ? { lockTimeout: PAGE_LOCK_TIMEOUT } : {}),
                    ...(live ? { live } : {}),
                  },
                );
                if (writeRebuild) {
                  await this.folders.markSeen(
                    m,
                    account.id,
                    folder.graphId,
                    page.messages.map((msg) => msg.id),
                  );
                }
                // what reads or writes folder rows (or depends on the pages before) waits for their commit
                await afterPrevious();
                if (!applied.countsUnknown && !finishing) {
                  // the common page: its counts and links in one statement, with the rows it touches locked in one
                  // order first (below, the long way, for a rebuild's end or a page whose counts need a recount)
                  const settled = await this.folders.settlePage(m, account.id, folder.graphId, {
                    changes: applied.counts,
                    links: { nextLink, deltaLink },
                    alsoRead: feed ? touchedBy(folder.graphId, applied) : [],
                  });
                  stored = storedAfter(stored, { nextLink, deltaLink });
                  if (!feed) return { applied, logged: [], counts: [] };
                  return {
                    applied,
                    ...(await this.logPage(m, account.id, folder.graphId, applied, settled)),
                  };
                }
                // Every folder row this page writes (its own: the rebuild's end and the links; those whose counts move)
                // locked at once, in one order, before any is written: two folders' pages of one round, each moving a
                // message into the other, wrote their own row first and then waited for each other's (a deadlock).
                await this.folders.lockFolders(
                  m,
                  account.id,
                  applied.countsUnknown ? 'all' : [folder.graphId, ...applied.counts.map((c) => c.folderId)],
                );
                let recount: string[] = [];
                if (finishing) {
                  const swept = await this.folders.finishRebuild(m, account.id, folder.graphId);
                  applied = {
                    ...applied,
                    removed: applied.removed + swept.length,
                    removedIds: [...applied.removedIds, ...swept],
                  };
                  // a rebuilt folder is counted again from its rows: whatever its counts were, they are exact now
                  recount = [folder.graphId];
                }
                // the stored counts move with the rows, in the same transaction: the page's own changes (O(page)),
                // before any other folder row is written (settleCounts locks them in one order)
                await this.folders.settleCounts(m, account.id, {
                  changes: applied.counts,
                  recount: applied.countsUnknown ? 'all' : recount,
                });
                await this.folders.saveLinks(m, account.id, folder.graphId, { nextLink, deltaLink });
                stored = storedAfter(stored, { nextLink, deltaLink });
                if (!feed) return { applied, logged: [], counts: [] };
                return { applied, ...(await this.logPage(m, account.id, folder.graphId, applied)) };
              };
              if (!live) return this.dataSource.transaction(write);
              // opened with its generic plans and committed with its WAL position: two round trips fewer
              const { value, walPosition } = await inGenericPlanTransaction(this.dataSource, write);
              return walPosition === undefined ? value : { ...value, walPosition };
            };
            // its turn may come after the folder was stopped (the lock lost, another folder failed): nothing written
            const outcome = serial
              ? await serial.run([...page.messages.map((msg) => msg.id), ...page.removedIds], () => {
                  signal.throwIfAborted();
                  return place();
                })
              : await place();
            const { applied, logged, counts, walPosition } = outcome;
            this.metrics?.syncMessagesWritten(
              providerOf(account).provider,
              applied.upserted + applied.relocated.length,
            );
            if (applied.upserted + applied.removed + applied.relocated.length > 0 || milestone) {
              await this.cacheVersion.bump(account.id, walPosition);
            }
            if (feed) {
              result.removedIds.push(...applied.relocated.map((r) => r.id), ...applied.removedIds);
              feed.announce(logged, counts);
            }
            await run.onPage?.(page.messages.length, done);
          },
        );
        if (done) {
          await writers.drain();
          return result;
        }
      }
    } finally {
      // stopped early (aborted, failed): the pages in flight end before the caller releases the mailbox lock
      await writers.settle();
    }
  }

  /**
   * Writes a folder's newest messages ahead of its delta (a first sync's first screen): upserted like a delta page
   * but with no cursor stored, so the delta that follows lists them again and changes nothing; the folder's counts
   * and the account's cache version move so the API answers them at once. Answers how many were written.
   */
  async writePreview(
    account: AccountForSync,
    folderId: string,
    messages: ChangesPage['messages'],
  ): Promise<number> {
    if (messages.length === 0) return 0;
    const applied = await this.dataSource.transaction(async (m) => {
      const written = await this.messages.applyPage(m, account.id, folderId, { messages, removedIds: [] });
      await this.folders.settleCounts(m, account.id, {
        changes: written.counts,
        ...(written.countsUnknown ? { recount: 'all' as const } : {}),
      });
      return written;
    });
    this.metrics?.syncMessagesWritten(providerOf(account).provider, applied.upserted);
    await this.cacheVersion.bump(account.id);
    return applied.upserted;
  }

  /**
   * What the page writes, decided from where its messages are now (holding its ids: see `FolderDeltaRun.serial`),
   * with one read of the mirror and one batch of look-ups:
   * - a removal the mirror holds in this folder: one now in another folder moves there instead (`relocate`); every
   *   answer is kept in `locations`;
   * - a listed message the mirror holds in another folder was either moved here (a move seen from its destination
   *   first) or read here before it moved away, after its destination's page was written (a page read before a
   *   move): only the provider can tell. It is written here only when the provider has it here now; otherwise its
   *   row stays as the folder it is in wrote it (whose later deltas bring what changed since), and where it is now
   *   goes to `locations` (the round's next pass reads that folder).
   * Nothing to look up, or too much: the removals are removed and the messages written as listed.
   */
  private async placePage(
    run: FolderDeltaRun,
    page: ChangesPage,
    locations: Map<string, string | null>,
  ): Promise<{ relocate: Map<string, string>; messages: ChangesPage['messages'] }> {
    const relocate = new Map<string, string>();
    const asListed = { relocate, messages: page.messages };
    const listed = page.messages.map((m) => m.id);
    const kept = new Set(listed);
    const removed = page.removedIds.filter((id) => !kept.has(id));
    const ids = [...removed, ...listed];
    // spent whatever follows: this page writes them
    const snapshot = run.held?.take(ids);
    if (!run.locate) return asListed;
    const here = run.folder.graphId;
    if (ids.length === 0) return asListed;
    const held = snapshot ?? (await this.messages.foldersOf(run.account.id, ids));
    const leaving = [...new Set(removed)].filter((id) => held.get(id) === here);
    const elsewhere = [...kept].filter((id) => held.has(id) && held.get(id) !== here);
    if (leaving.length + elsewhere.length === 0) return asListed;
    const found = await run.locate([...leaving, ...elsewhere]);
    if (!found) return asListed;
    for (const id of leaving) {
      const folderId = found.get(id) ?? null;
      locations.set(id, folderId);
      if (folderId !== null && folderId !== here) relocate.set(id, folderId);
    }
    const away = new Set<string>();
    for (const id of elsewhere) {
      const folderId = found.get(id) ?? null;
      if (folderId === here) continue;
      away.add(id);
      if (folderId !== null) locations.set(id, folderId);
    }
    return {
      relocate,
      messages: away.size === 0 ? page.messages : page.messages.filter((m) => !away.has(m.id)),
    };
  }

  /**
   * In the page's transaction, after its counts were settled: numbers and logs what the page actually changed
   * (rows written because their change key or folder differed, rows removed), with the counts of the folders it
   * touched: its own, and any folder a moved message left or went to.
   */
  private async logPage(
    m: EntityManager,
    accountId: string,
    folderId: string,
    applied: AppliedPage,
    /** the counts `settlePage` read back (the touched folders among them), when it settled the page */
    settled?: FolderCounts[],
  ): Promise<{ logged: MailChange[]; counts: FolderCounts[] }> {
    const created = new Set(applied.createdIds);
    const changes: NewMailChange[] = [
      ...applied.removedIds.map((id) => ({ kind: 'removed' as const, messageId: id, folderId })),
      ...applied.relocated.map((r) => ({ kind: 'upserted' as const, messageId: r.id, folderId: r.folderId })),
      ...applied.upsertedIds.map((id) => ({
        kind: created.has(id) ? ('created' as const) : ('upserted' as const),
        messageId: id,
        folderId,
      })),
    ];
    if (changes.length === 0) return { logged: [], counts: [] };
    const touched = touchedBy(folderId, applied);
    const logged = await this.changes.record(m, accountId, changes);
    if (settled) {
      const wanted = new Set(touched);
      return { logged, counts: settled.filter((c) => wanted.has(c.folderId)) };
    }
    const counts = await this.folders.countsOf(m, accountId, touched);
    return { logged, counts };
  }
}
