import type { DataSource, EntityManager } from 'typeorm';
import { prepared } from '../prepared';
import { dedupeById, pgText, type FolderInput } from './mail-rows';

export interface FolderSyncState {
  graphId: string;
  parentGraphId: string | null;
  displayName: string;
  /** 'inbox', 'sentitems', ... or null for a folder of the user's own */
  wellKnownName: string | null;
  nextLink: string | null;
  deltaLink: string | null;
  /** a lost delta state is being rebuilt from scratch (see `startRebuild`) */
  rebuilding: boolean;
}

export interface FolderLinks {
  /** set while a delta round is in progress: where the next page starts */
  nextLink?: string | null;
  /** set when a delta round finished: where the next round starts */
  deltaLink?: string | null;
}

/** Current counts of a folder, as the mirror holds them. */
export interface FolderCountsRow {
  folderId: string;
  totalCount: number;
  unreadCount: number;
}

/** A change of a folder's stored counts: messages gained (negative: lost), and unread ones among them. */
export interface FolderCountDelta {
  folderId: string;
  total: number;
  unread: number;
}

/** What a writer's transaction does to the stored folder counts (see `settleCounts`). */
export interface CountSettlement {
  /** exact changes, from the rows the transaction wrote (`AppliedPage.counts`) */
  changes?: FolderCountDelta[];
  /** folders counted again from their rows instead (a rebuilt folder), or all of the account's */
  recount?: string[] | 'all';
}

/** A message the mirror dropped with its folder (the folder is gone from the mailbox). */
export interface DroppedMessage {
  id: string;
  folderId: string;
}

export interface UpsertFoldersOptions {
  /**
   * Runs inside the transaction that writes the tree, with the messages dropped because their folder is gone
   * (e.g. to log them as changes, so the log and the mirror commit together). Without it the ids are not read.
   */
  beforeCommit?: (manager: EntityManager, dropped: DroppedMessage[]) => Promise<void>;
}

export interface UpsertFoldersResult {
  /** folders inserted or changed (name, parent, well-known name) */
  upserted: number;
  /** folders that are no longer in the mailbox, deleted with their messages */
  removed: number;
}

export const UPSERT_FOLDERS_SQL = `
WITH up AS (
INSERT INTO mail_folders (account_id, remote_id, parent_remote_id, display_name, well_known_name)
SELECT $1, t.remote_id, t.parent_remote_id, t.display_name, t.well_known_name
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(remote_id, parent_remote_id, display_name, well_known_name)
ON CONFLICT (account_id, remote_id) DO UPDATE SET
  parent_remote_id = EXCLUDED.parent_remote_id,
  display_name = EXCLUDED.display_name,
  well_known_name = EXCLUDED.well_known_name,
  updated_at = now()
WHERE (mail_folders.parent_remote_id, mail_folders.display_name, mail_folders.well_known_name)
  IS DISTINCT FROM (EXCLUDED.parent_remote_id, EXCLUDED.display_name, EXCLUDED.well_known_name)
RETURNING 1
)
SELECT count(*)::int AS n FROM up`;

/** a folder's columns as `upsertFolders` stores them */
const folderColumns = (f: FolderInput) => ({
  parent: f.parentFolderId == null ? null : pgText(f.parentFolderId),
  name: pgText(f.displayName ?? ''),
  wellKnown: f.wellKnownName == null ? null : pgText(f.wellKnownName),
});

/** `UPSERT_FOLDERS_SQL`'s parameters: the account, then the folders' columns as arrays */
const upsertFoldersParams = (accountId: string, folders: FolderInput[]): unknown[] => {
  const columns = folders.map(folderColumns);
  return [
    accountId,
    folders.map((f) => f.id),
    columns.map((c) => c.parent),
    columns.map((c) => c.name),
    columns.map((c) => c.wellKnown),
  ];
};

/**
 * Whether the mirror's folders (`listForSync`'s rows) already are `tree`, as `upsertFolders` would store it: the
 * same folders, none more, each with the same parent, name and well-known name. Then writing the tree changes
 * nothing and can be skipped.
 */
export const holdsTree = (known: ReadonlyMap<string, FolderSyncState>, tree: FolderInput[]): boolean => {
  const list = dedupeById(tree);
  if (list.length !== known.size) return false;
  return list.every((f) => {
    const row = known.get(f.id);
    const c = folderColumns(f);
    return (
      row !== undefined &&
      row.parentGraphId === c.parent &&
      row.displayName === c.name &&
      row.wellKnownName === c.wellKnown
    );
  });
};

/**
 * The folder rows a transaction's counts will change, locked in one order (by id) by every writer, so two writers
 * never hold one each while waiting for the other's. `FOR NO KEY UPDATE`, the strength of the UPDATE that follows
 * (counts and links, never the key): it excludes other writers of the row but not the `FOR KEY SHARE` lock a
 * foreign-key check takes. A rebuild page's `markSeen` (folder_rebuild_seen references its folder) holds that
 * share lock while it waits in our code for the page before; `FOR UPDATE` here made the page before wait for it
 * in turn, a cycle Postgres cannot see, ended only by the page's lock timeout (a failed sync).
 */
export const LOCK_FOLDERS_SQL = (onlySome: boolean) => `
SELECT remote_id FROM mail_folders
WHERE account_id = $1${onlySome ? ' AND remote_id = ANY($2::text[])' : ''}
ORDER BY remote_id
FOR NO KEY UPDATE`;

/** the account's folders with their cursors, the Inbox first (`listForSync`) */
const LIST_FOR_SYNC_SQL = prepared(`
SELECT remote_id, parent_remote_id, display_name, well_known_name, next_cursor, cursor, rebuilding
FROM mail_folders WHERE account_id = $1
ORDER BY well_known_name IS DISTINCT FROM 'inbox', remote_id`);

/** a folder's links as `storedLinks` gives them (`saveLinks`) */
const SAVE_LINKS_SQL = prepared(`
UPDATE mail_folders
SET next_cursor = $3,
    cursor = COALESCE($4, cursor),
    synced_at = CASE WHEN $4::text IS NULL THEN synced_at ELSE now() END,
    updated_at = now()
WHERE account_id = $1 AND remote_id = $2`);

/** some folders' stored counts (`countsOf`) */
const COUNTS_OF_SQL = prepared(`
SELECT remote_id, total_count, unread_count FROM mail_folders
WHERE account_id = $1 AND remote_id = ANY($2::text[]) ORDER BY remote_id`);

/** Count changes added to the stored counts. */
export const ADD_COUNTS_SQL = `
UPDATE mail_folders f
SET total_count = f.total_count + d.total, unread_count = f.unread_count + d.unread, updated_at = now()
FROM unnest($2::text[], $3::int[], $4::int[]) AS d(remote_id, total, unread)
WHERE f.account_id = $1 AND f.remote_id = d.remote_id`;

/**
 * Total and unread counts recomputed from the mirror's rows, written only where they differ. Exact with writers
 * running beside it when the folder rows were locked first (`LOCK_FOLDERS_SQL`, then this in a later statement):
 * a writer that added its changes has committed and its rows are counted here; one that has not yet waits for this
 * transaction and adds its changes to the recounted value.
 */
export const RECOUNT_SQL = (onlySome: boolean) => `
UPDATE mail_folders f
SET total_count = c.total, unread_count = c.unread, updated_at = now()
FROM (
  SELECT mf.remote_id,
         count(m.remote_id)::int AS total,
         (count(m.remote_id) FILTER (WHERE NOT m.is_read))::int AS unread
  FROM mail_folders mf
  LEFT JOIN messages m ON m.account_id = mf.account_id AND m.folder_remote_id = mf.remote_id
  WHERE mf.account_id = $1${onlySome ? ' AND mf.remote_id = ANY($2::text[])' : ''}
  GROUP BY mf.remote_id
) c
WHERE f.account_id = $1 AND f.remote_id = c.remote_id
  AND (f.total_count <> c.total OR f.unread_count <> c.unread)`;

/**
 * A page's whole write of folder rows in one statement, for a page whose count changes are exact (no recount):
 * every row it touches (its own folder, those its counts move, those it reports) locked in id order first, as
 * `LOCK_FOLDERS_SQL` does; then its count changes added and its own folder's links stored, as `ADD_COUNTS_SQL` and
 * `saveLinks` do; then the locked rows' counts read back. The lock is a materialized CTE that the UPDATE only reads
 * from, so every row is locked in the CTE's order before the UPDATE can write it. A row another writer changed
 * while this one waited for its lock is read as that writer committed it: the lock answers the row's newest
 * version, and the UPDATE re-reads it (READ COMMITTED), so the counts read back are never the statement's stale
 * snapshot. Parameters: the account, the rows to lock, the count changes (folder, total, unread as arrays), the
 * page's folder, and its links as the row stores them (`storedLinks`).
 */
export const SETTLE_PAGE_SQL = prepared(`
WITH locked AS MATERIALIZED (
  SELECT remote_id, total_count, unread_count FROM mail_folders
  WHERE account_id = $1 AND remote_id = ANY($2::text[])
  ORDER BY remote_id
  FOR NO KEY UPDATE
),
d AS (
  SELECT remote_id, sum(total)::int AS total, sum(unread)::int AS unread
  FROM unnest($3::text[], $4::int[], $5::int[]) AS d(remote_id, total, unread)
  GROUP BY remote_id
),
up AS (
  UPDATE mail_folders f
  SET total_count = f.total_count + COALESCE(d.total, 0),
      unread_count = f.unread_count + COALESCE(d.unread, 0),
      next_cursor = CASE WHEN f.remote_id = $6 THEN $7 ELSE f.next_cursor END,
      cursor = CASE WHEN f.remote_id = $6 THEN COALESCE($8, f.cursor) ELSE f.cursor END,
      synced_at = CASE WHEN f.remote_id = $6 AND $8::text IS NOT NULL THEN now() ELSE f.synced_at END,
      updated_at = now()
  FROM locked l LEFT JOIN d ON d.remote_id = l.remote_id
  WHERE f.account_id = $1 AND f.remote_id = l.remote_id AND (f.remote_id = $6 OR d.remote_id IS NOT NULL)
  RETURNING f.remote_id, f.total_count, f.unread_count
)
SELECT l.remote_id,
       COALESCE(up.total_count, l.total_count) AS total_count,
       COALESCE(up.unread_count, l.unread_count) AS unread_count
FROM locked l
LEFT JOIN up ON up.remote_id = l.remote_id
ORDER BY l.remote_id`);

/** What a page writes to folder rows in one statement (`MailFoldersRepository.settlePage`). */
export interface PageSettlement {
  /** the page's exact count changes (`AppliedPage.counts`) */
  changes: FolderCountDelta[];
  /** the page's own folder's links (see `saveLinks`) */
  links: FolderLinks;
  /** other folders whose counts the caller wants back (the page moved messages out of them): locked and read too */
  alsoRead?: string[];
}

/** a folder row's counts as the repository answers them */
type CountsRowSql = { remote_id: string; total_count: number; unread_count: number };
const toCountsRow = (r: CountsRowSql): FolderCountsRow => ({
  folderId: r.remote_id,
  totalCount: Number(r.total_count),
  unreadCount: Number(r.unread_count),
});

/**
 * A folder's links as its row stores them: `next_cursor` (kept only while no deltaLink ends the round) and the
 * deltaLink for `cursor` (null keeps the stored one), for `saveLinks` and `SETTLE_PAGE_SQL`.
 */
const storedLinks = (links: FolderLinks): [nextCursor: string | null, deltaLink: string | null] => {
  const deltaLink = links.deltaLink ?? null;
  return [deltaLink === null ? (links.nextLink ?? null) : null, deltaLink];
};

/** Intent-level access to an account's folders and their delta state. */
export class MailFoldersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Makes the account's folders exactly `folders` (the whole tree, nested folders included): new ones inserted
   * without links, renamed or moved ones updated, and folders gone from the mailbox deleted with their messages.
   * Links and counts of existing folders are kept.
   */
  upsertFolders(
    accountId: string,
    folders: FolderInput[],
    options: UpsertFoldersOptions = {},
  ): Promise<UpsertFoldersResult> {
    const list = dedupeById(folders);
    const ids = list.map((f) => f.id);
    return this.dataSource.transaction(async (m) => {
      let upserted = 0;
      if (list.length > 0) {
        const rows: Array<{ n: number }> = await m.query(
          UPSERT_FOLDERS_SQL,
          upsertFoldersParams(accountId, list),
        );
        upserted = rows[0]?.n ?? 0;
      }
      if (options.beforeCommit) {
        const dropped: Array<{ remote_id: string; folder_remote_id: string }> = await m.query(
          // remembered as removed (see REMOVE_SQL): a renamed folder's messages listed again under its new id
          // are the same messages, not new mail
          `WITH d AS (
             DELETE FROM messages WHERE account_id = $1 AND NOT (folder_remote_id = ANY($2::text[]))
             RETURNING remote_id, folder_remote_id, internet_message_id, is_draft
           ), remembered AS (
             INSERT INTO message_removals (account_id, remote_id, internet_message_id, outgoing, removed_at)
             SELECT $1, remote_id, internet_message_id, is_draft, now() FROM d
             ON CONFLICT (account_id, remote_id) DO UPDATE SET removed_at = EXCLUDED.removed_at)
           SELECT remote_id, folder_remote_id FROM d`,
          [accountId, ids],
        );
        await options.beforeCommit(
          m,
          dropped.map((r) => ({ id: r.remote_id, folderId: r.folder_remote_id })),
        );
      } else {
        await m.query(
          `DELETE FROM messages WHERE account_id = $1 AND NOT (folder_remote_id = ANY($2::text[]))`,
          [accountId, ids],
        );
      }
      const gone: Array<{ n: number }> = await m.query(
        `WITH gone AS (DELETE FROM mail_folders WHERE account_id = $1 AND NOT (remote_id = ANY($2::text[])) RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [accountId, ids],
      );
      return { upserted, removed: gone[0]?.n ?? 0 };
    });
  }

  /**
   * Inserts or updates one folder and drops nothing (a first screen's Inbox, before the whole tree is read by
   * `upsertFolders`). Answers whether the row was inserted or changed.
   */
  async upsertFolder(accountId: string, folder: FolderInput): Promise<boolean> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      UPSERT_FOLDERS_SQL,
      upsertFoldersParams(accountId, [folder]),
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  /** The account's folders with where each one's delta resumes, in a stable order. */
  async listForSync(accountId: string): Promise<FolderSyncState[]> {
    const rows: Array<{
      remote_id: string;
      parent_remote_id: string | null;
      display_name: string;
      well_known_name: string | null;
      next_cursor: string | null;
      cursor: string | null;
      rebuilding: boolean;
    }> = await this.dataSource.query(
      // the Inbox first: what a user looks at first is mirrored first
      LIST_FOR_SYNC_SQL,
      [accountId],
    );
    return rows.map((r) => ({
      graphId: r.remote_id,
      parentGraphId: r.parent_remote_id,
      displayName: r.display_name,
      wellKnownName: r.well_known_name,
      nextLink: r.next_cursor,
      deltaLink: r.cursor,
      rebuilding: r.rebuilding,
    }));
  }

  /**
   * Stores where the folder's delta goes on, in the transaction that wrote the page. A `nextLink` means the round
   * is still going (the previous deltaLink is kept as a fallback); a `deltaLink` ends the round.
   */
  async saveLinks(
    manager: EntityManager,
    accountId: string,
    folderId: string,
    links: FolderLinks,
  ): Promise<void> {
    await manager.query(SAVE_LINKS_SQL, [accountId, folderId, ...storedLinks(links)]);
  }

  /**
   * Forgets the folder's delta state (its token expired: 410 SyncStateNotFound) and starts a rebuild from scratch
   * that keeps the folder's messages meanwhile: a full delta reports what exists, not what was deleted while the
   * token was lost, so each page records the ids it lists (`markSeen`) and the last one removes the rest
   * (`finishRebuild`). The folder never shows empty, and a crash mid-rebuild resumes it from the stored nextLink.
   */
  async startRebuild(manager: EntityManager, accountId: string, folderId: string): Promise<void> {
    await manager.query(`DELETE FROM folder_rebuild_seen WHERE account_id = $1 AND folder_remote_id = $2`, [
      accountId,
      folderId,
    ]);
    await manager.query(
      `UPDATE mail_folders
       SET next_cursor = NULL, cursor = NULL, synced_at = NULL, rebuilding = true, updated_at = now()
       WHERE account_id = $1 AND remote_id = $2`,
      [accountId, folderId],
    );
  }

  /** During a rebuild, in the page's transaction: the ids the page listed. */
  async markSeen(manager: EntityManager, accountId: string, folderId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(
      `INSERT INTO folder_rebuild_seen (account_id, folder_remote_id, remote_id)
       SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      [accountId, folderId, ids],
    );
  }

  /**
   * Ends a rebuild, in the last page's transaction: the folder's messages that no page listed are removed (they
   * were deleted, or moved away, while the token was lost); answers their ids.
   */
  async finishRebuild(manager: EntityManager, accountId: string, folderId: string): Promise<string[]> {
    const rows: Array<{ remote_id: string }> = await manager.query(
      `WITH d AS (
         DELETE FROM messages m WHERE m.account_id = $1 AND m.folder_remote_id = $2
           AND NOT EXISTS (SELECT 1 FROM folder_rebuild_seen s
                           WHERE s.account_id = $1 AND s.folder_remote_id = $2 AND s.remote_id = m.remote_id)
         RETURNING m.remote_id
       )
       SELECT remote_id FROM d`,
      [accountId, folderId],
    );
    await manager.query(`DELETE FROM folder_rebuild_seen WHERE account_id = $1 AND folder_remote_id = $2`, [
      accountId,
      folderId,
    ]);
    await manager.query(
      `UPDATE mail_folders SET rebuilding = false WHERE account_id = $1 AND remote_id = $2`,
      [accountId, folderId],
    );
    return rows.map((r) => r.remote_id);
  }

  /** The stored counts of some of the account's folders (unknown ids are absent), read with `manager`. */
  async countsOf(
    manager: EntityManager | undefined,
    accountId: string,
    folderIds: string[],
  ): Promise<FolderCountsRow[]> {
    if (folderIds.length === 0) return [];
    const rows: CountsRowSql[] = await (manager ?? this.dataSource.manager).query(COUNTS_OF_SQL, [
      accountId,
      [...new Set(folderIds)],
    ]);
    return rows.map(toCountsRow);
  }

  /**
   * Brings the stored counts (`total_count`, `unread_count`, what the API answers) up to date with the messages a
   * writer's transaction changed, inside that transaction: its exact changes added (O(folders touched)), or some
   * folders (or all) counted again from their rows (O(folder), for a rebuilt folder or a change the writer could
   * not know). The rows are locked in id order first when there are several, so writers of different folders
   * touching the same ones (a move) cannot deadlock. Page writers call it in their ordered section (after the
   * page before committed): a later page holding a folder row while an earlier one waits for it, and the later
   * one waits for that commit, is a cycle Postgres cannot see.
   */
  async settleCounts(manager: EntityManager, accountId: string, settle: CountSettlement): Promise<void> {
    const all = settle.recount === 'all';
    const recounted = new Set(settle.recount === 'all' ? [] : (settle.recount ?? []));
    const changes = all ? [] : (settle.changes ?? []).filter((c) => !recounted.has(c.folderId));
    const folders = new Set([...changes.map((c) => c.folderId), ...recounted]);
    if (!all && folders.size === 0) return;
    if (all || folders.size > 1 || recounted.size > 0) {
      await manager.query(LOCK_FOLDERS_SQL(!all), all ? [accountId] : [accountId, [...folders]]);
    }
    if (changes.length > 0) {
      await manager.query(ADD_COUNTS_SQL, [
        accountId,
        changes.map((c) => c.folderId),
        changes.map((c) => c.total),
        changes.map((c) => c.unread),
      ]);
    }
    if (all || recounted.size > 0) {
      await manager.query(RECOUNT_SQL(!all), all ? [accountId] : [accountId, [...recounted]]);
    }
  }

  /**
   * A page's count changes and its folder's links in one statement, with every row it touches locked in id order
   * first (what `lockFolders`, `settleCounts` with exact changes and `saveLinks` do in three or four), answering
   * the counts of the rows it locked: the page's folder, those its counts moved, and `alsoRead`. Exact changes only:
   * a page that needs a recount goes the long way (`lockFolders`, `settleCounts`, `saveLinks`).
   */
  async settlePage(
    manager: EntityManager,
    accountId: string,
    folderId: string,
    settle: PageSettlement,
  ): Promise<FolderCountsRow[]> {
    const lock = [
      ...new Set([folderId, ...settle.changes.map((c) => c.folderId), ...(settle.alsoRead ?? [])]),
    ];
    const rows: CountsRowSql[] = await manager.query(SETTLE_PAGE_SQL, [
      accountId,
      lock,
      settle.changes.map((c) => c.folderId),
      settle.changes.map((c) => c.total),
      settle.changes.map((c) => c.unread),
      folderId,
      ...storedLinks(settle.links),
    ]);
    return rows.map(toCountsRow);
  }

  /**
   * Locks folder rows of the account (some, or all) in id order, for a transaction that writes several of them:
   * taken at once and in one order, two such transactions never wait for each other in a cycle.
   */
  async lockFolders(manager: EntityManager, accountId: string, folderIds: string[] | 'all'): Promise<void> {
    await manager.query(
      LOCK_FOLDERS_SQL(folderIds !== 'all'),
      folderIds === 'all' ? [accountId] : [accountId, [...new Set(folderIds)]],
    );
  }

  /**
   * Counts some folders (or all of the account's) again from the mirror's rows: where drift would heal (a whole
   * mailbox sync ends with it). In `manager`'s transaction, or its own.
   */
  async recount(manager: EntityManager | undefined, accountId: string, folderIds?: string[]): Promise<void> {
    const settle: CountSettlement = { recount: folderIds ?? 'all' };
    if (manager) await this.settleCounts(manager, accountId, settle);
    else await this.dataSource.transaction((m) => this.settleCounts(m, accountId, settle));
  }
}
