import { waitFor } from './wait-for';

/** A mailbox reduced to what both the mirror (Postgres) and the emulator's export hold, sorted by id. */
export interface MailboxState {
  messages: Array<{
    id: string;
    folderId: string;
    changeKey: string;
    subject: string;
    isRead: boolean;
    flagStatus: string;
  }>;
  /** visible folders with their counts (hidden folders are not listed by Graph, so not mirrored) */
  folders: Array<{ id: string; total: number; unread: number }>;
}

/** A pg `Client` or `Pool`. */
export interface Queryable {
  query<R extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<{ rows: R[] }>;
}

/** The emulator's admin call (`RunningEmulator.admin`). */
export type EmulatorAdmin = <T>(method: string, path: string, body?: unknown) => Promise<T>;

interface ExportView {
  folders: Array<{ id: string; isHidden: boolean; totalItemCount: number; unreadItemCount: number }>;
  messages: Array<{
    immutableId: string;
    parentFolderId: string;
    changeKey: string;
    subject: string;
    isRead: boolean;
    flag: { flagStatus: string };
  }>;
}

// code-point order on both sides (a database collation may order ids differently)
const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export async function mirroredState(db: Queryable, accountId: string): Promise<MailboxState> {
  const messages = await db.query<{
    remote_id: string;
    folder_remote_id: string;
    change_key: string;
    subject: string;
    is_read: boolean;
    flag_status: string;
  }>(
    `SELECT remote_id, folder_remote_id, change_key, subject, is_read, flag_status FROM messages
      WHERE account_id = $1`,
    [accountId],
  );
  const folders = await db.query<{ remote_id: string; total_count: number; unread_count: number }>(
    `SELECT remote_id, total_count, unread_count FROM mail_folders WHERE account_id = $1`,
    [accountId],
  );
  return {
    messages: messages.rows
      .map((r) => ({
        id: r.remote_id,
        folderId: r.folder_remote_id,
        changeKey: r.change_key,
        subject: r.subject,
        isRead: r.is_read,
        flagStatus: r.flag_status,
      }))
      .sort(byId),
    folders: folders.rows
      .map((r) => ({ id: r.remote_id, total: r.total_count, unread: r.unread_count }))
      .sort(byId),
  };
}

export async function exportedState(admin: EmulatorAdmin, address: string): Promise<MailboxState> {
  const exp = await admin<ExportView>('GET', `/_emulator/mailboxes/${address}/export?bodies=false`);
  return {
    messages: exp.messages
      .map((m) => ({
        id: m.immutableId,
        folderId: m.parentFolderId,
        changeKey: m.changeKey,
        subject: m.subject,
        isRead: m.isRead,
        flagStatus: m.flag.flagStatus,
      }))
      .sort(byId),
    folders: exp.folders
      .filter((f) => !f.isHidden)
      .map((f) => ({ id: f.id, total: f.totalItemCount, unread: f.unreadItemCount }))
      .sort(byId),
  };
}

/**
 * Polls until the mirror of `accountId` equals the export of `address` (or `timeoutMs` passes) and returns
 * both, so the caller asserts `expect(mirror).toEqual(exported)` and a mismatch shows as a diff.
 */
export async function settleMirror(
  db: Queryable,
  admin: EmulatorAdmin,
  accountId: string,
  address: string,
  timeoutMs: number,
): Promise<{ mirror: MailboxState; exported: MailboxState }> {
  const both = async () => ({
    mirror: await mirroredState(db, accountId),
    exported: await exportedState(admin, address),
  });
  await waitFor(
    async () => {
      const { mirror, exported } = await both();
      return JSON.stringify(mirror) === JSON.stringify(exported) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `the mirror of ${address} to equal the export` },
  ).catch(() => undefined);
  return both();
}
