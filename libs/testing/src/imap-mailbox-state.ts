import { readFileSync } from 'node:fs';
import { ImapFlow, type MessageStructureObject } from 'imapflow';
import { decodeMessageId } from '@email-core/providers';
import type { DemoMailboxTarget } from '@email-core/stack';
import type { DevMailServer } from './dev-mail';
import type { Queryable } from './mailbox-state';
import { apiCall } from './product';

/**
 * An IMAP mailbox reduced to what both a ground-truth read of the server and the mirror (Postgres) hold, so a test
 * compares them with one `toEqual`: the folders (path, nearest selectable parent, name, counts) and every message by
 * folder and UID (its UIDVALIDITY, flags as the mirror names them, subject and sender decoded, which body it has
 * and whether it has attachments).
 */
export interface ImapMailboxState {
  folders: Array<{ path: string; parent: string | null; name: string; total: number; unread: number }>;
  messages: ImapMessageState[];
}

export interface ImapMessageState {
  folder: string;
  uidValidity: string;
  uid: number;
  isRead: boolean;
  flagStatus: 'flagged' | 'complete' | 'notFlagged';
  subject: string;
  fromName: string;
  fromAddress: string;
  /** the body the message has: its HTML part, else its text part (what the mirror keeps), or none */
  body: 'html' | 'text' | 'none';
  hasAttachments: boolean;
}

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const byFolderUid = (a: ImapMessageState, b: ImapMessageState) =>
  a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : a.uid - b.uid;

/** an IMAPS (TLS) session to the dev mail server as `address` */
export function devImapSession(
  server: DevMailServer,
  address: string,
  /** the mailbox's password when the server changed it from the dev one */
  password = server.password,
): ImapFlow {
  const imaps = process.env.MAIL_IMAPS?.split(':');
  const client = new ImapFlow({
    ...(imaps
      ? { host: imaps[0], port: Number(imaps[1]), secure: true }
      : { host: server.imap.host, port: server.imap.port, secure: false, doSTARTTLS: true }),
    auth: { user: address, pass: password },
    tls: { ca: readFileSync(server.caFile, 'utf8') },
    logger: false,
    connectionTimeout: 10_000,
    socketTimeout: 120_000,
  });
  client.on('error', () => undefined);
  return client;
}

/** `work` on a session of its own to the dev mail server as `address` (another mail client), logged out after */
export async function withDevImapSession<T>(
  server: DevMailServer,
  address: string,
  work: (client: ImapFlow) => Promise<T>,
  password = server.password,
): Promise<T> {
  const client = devImapSession(server, address, password);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** `address` on the dev mail server as `fillMailbox` (libs/stack) takes it: IMAPS when the stack has it */
export function devMailTarget(server: DevMailServer, address: string): DemoMailboxTarget {
  const imaps = process.env.MAIL_IMAPS;
  return {
    endpoint: imaps ?? `${server.imap.host}:${server.imap.port}`,
    security: imaps ? 'tls' : 'starttls',
    address,
    password: server.password,
    ca: [readFileSync(server.caFile, 'utf8')],
  };
}

const leaves = (node: MessageStructureObject | undefined): MessageStructureObject[] =>
  !node ? [] : node.childNodes?.length ? node.childNodes.flatMap(leaves) : [node];

/**
 * The ground truth: the mailbox as the server tells it over a session of its own (LIST with STATUS, then per
 * folder UID FETCH of FLAGS, ENVELOPE and BODYSTRUCTURE). Nothing of the product's code is used.
 */
export async function serverImapState(
  server: DevMailServer,
  address: string,
  password = server.password,
): Promise<ImapMailboxState> {
  const client = devImapSession(server, address, password);
  await client.connect();
  try {
    const listed = (await client.list({ statusQuery: { messages: true, unseen: true } })).filter(
      (f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'),
    );
    const selectable = new Set(listed.map((f) => f.path));
    const folders: ImapMailboxState['folders'] = listed.map((f) => {
      let parent: string | null = null;
      const segments = f.delimiter ? f.path.split(f.delimiter) : [f.path];
      for (let n = segments.length - 1; n > 0 && parent === null; n -= 1) {
        const candidate = segments.slice(0, n).join(f.delimiter);
        if (selectable.has(candidate)) parent = candidate;
      }
      return {
        path: f.path,
        parent,
        name: f.name,
        total: f.status?.messages ?? 0,
        unread: f.status?.unseen ?? 0,
      };
    });
    const messages: ImapMessageState[] = [];
    for (const f of listed) {
      const box = await client.mailboxOpen(f.path, { readOnly: true });
      if (box.exists === 0) continue;
      for await (const m of client.fetch('1:*', {
        uid: true,
        flags: true,
        envelope: true,
        bodyStructure: true,
      })) {
        const flags = m.flags ?? new Set<string>();
        const from = m.envelope?.from?.[0];
        const parts = leaves(m.bodyStructure);
        const bodyPart = (type: string) =>
          parts.some((p) => p.type === type && p.disposition !== 'attachment' && (p.size ?? 0) > 0);
        messages.push({
          folder: f.path,
          uidValidity: String(box.uidValidity),
          uid: m.uid,
          isRead: flags.has('\\Seen'),
          flagStatus: flags.has('\\Flagged')
            ? 'flagged'
            : [...flags].some((x) => x.toLowerCase() === '$completed')
              ? 'complete'
              : 'notFlagged',
          subject: m.envelope?.subject ?? '',
          fromName: from?.name || from?.address || '',
          fromAddress: from?.address ?? '',
          body: bodyPart('text/html') ? 'html' : bodyPart('text/plain') ? 'text' : 'none',
          hasAttachments: parts.some((p) => p.disposition === 'attachment'),
        });
      }
    }
    return { folders: folders.sort(byPath), messages: messages.sort(byFolderUid) };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The same projection of the mirror of `accountId` (mail_folders, messages, message_bodies). */
export async function mirroredImapState(db: Queryable, accountId: string): Promise<ImapMailboxState> {
  const folders = await db.query<{
    remote_id: string;
    parent_remote_id: string | null;
    display_name: string;
    total_count: number;
    unread_count: number;
  }>(
    `SELECT remote_id, parent_remote_id, display_name, total_count, unread_count
       FROM mail_folders WHERE account_id = $1`,
    [accountId],
  );
  const messages = await db.query<{
    remote_id: string;
    folder_remote_id: string;
    is_read: boolean;
    flag_status: string;
    subject: string;
    from_name: string;
    from_address: string;
    has_attachments: boolean;
    body: string;
  }>(
    `SELECT m.remote_id, m.folder_remote_id, m.is_read, m.flag_status, m.subject, m.from_name, m.from_address,
            m.has_attachments,
            CASE WHEN length(btrim(coalesce(b.content, ''))) > 0 THEN b.content_type ELSE 'none' END AS body
       FROM messages m
       LEFT JOIN message_bodies b ON b.account_id = m.account_id AND b.remote_id = m.remote_id
      WHERE m.account_id = $1`,
    [accountId],
  );
  return {
    folders: folders.rows
      .map((r) => ({
        path: r.remote_id,
        parent: r.parent_remote_id,
        name: r.display_name,
        total: r.total_count,
        unread: r.unread_count,
      }))
      .sort(byPath),
    messages: messages.rows
      .map((r): ImapMessageState => {
        const loc = decodeMessageId(r.remote_id);
        return {
          // an id that does not decode, or names another folder than its row, shows up in the diff
          folder: loc?.path === r.folder_remote_id ? loc.path : `${r.folder_remote_id} (id: ${r.remote_id})`,
          uidValidity: loc ? String(loc.uidValidity) : '',
          uid: loc?.uid ?? 0,
          isRead: r.is_read,
          flagStatus: r.flag_status as ImapMessageState['flagStatus'],
          subject: r.subject,
          fromName: r.from_name,
          fromAddress: r.from_address,
          body: r.body as ImapMessageState['body'],
          hasAttachments: r.has_attachments,
        };
      })
      .sort(byFolderUid),
  };
}

/**
 * The body of `POST /api/v1/accounts/imap` for `address` on the dev mail server, as a user fills it in: IMAPS when
 * the stack has it, submission with STARTTLS, the dev password unless another is given.
 */
export function devImapLinkBody(server: DevMailServer, address: string, password = server.password) {
  const imaps = process.env.MAIL_IMAPS?.split(':');
  return {
    email: address,
    imap: {
      ...(imaps
        ? { host: imaps[0], port: Number(imaps[1]), security: 'tls' }
        : { host: server.imap.host, port: server.imap.port, security: 'starttls' }),
      username: address,
      password,
    },
    smtp: {
      host: server.submission.host,
      port: server.submission.port,
      security: 'starttls',
      username: address,
      password,
    },
  };
}

/**
 * Links `address` on the dev mail server through the API the way a user does ({@link devImapLinkBody}), or links it
 * again (a reconnect); answers the account's id.
 */
export async function linkDevImap(
  api: string,
  token: string,
  server: DevMailServer,
  address: string,
  /** the mailbox's password when it is not the dev one (a server that changed it) */
  password = server.password,
): Promise<string> {
  const res = await apiCall<{ id?: string; error?: string }>(api, 'POST', '/api/v1/accounts/imap', {
    token,
    body: devImapLinkBody(server, address, password),
  });
  // 201 for a new account; 200 for one linked again (the same id, new settings)
  if ((res.status !== 201 && res.status !== 200) || !res.body.id)
    throw new Error(`link -> ${res.status} ${res.body.error ?? ''}`);
  return res.body.id;
}
