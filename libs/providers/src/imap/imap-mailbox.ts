import { createHash } from 'node:crypto';
import type {
  FetchMessageObject,
  ImapFlow,
  ListResponse,
  MailboxObject,
  MessageAddressObject,
} from 'imapflow';
import { simpleParser } from 'mailparser';
import type { RecipientInput } from '@email-core/database';
import {
  CursorLostError,
  ProviderRefusedError,
  type ChangesFrom,
  type ChangesPage,
  type ConnectionWatch,
  type DraftContent,
  type SaveDraftOptions,
  type FlagStatus,
  type Mailbox,
  type MailboxActions,
  type MailboxAttachments,
  type ManyIdsAction,
  type ManyIdsResult,
  type OutgoingAttachment,
  type OutgoingMail,
  type ReplyOptions,
  type ForwardOptions,
  type RemoteFolder,
  type RemoteMessage,
} from '../port';
import { withImapSession, type ImapExpunge, type ImapSessionOptions } from './imap-connection';
import type { ImapRequestCounter } from './imap-request-metrics';
import {
  decodeImapCursor,
  encodeImapCursor,
  formatUidSet,
  parseUidSet,
  type ImapCursorState,
} from './imap-cursor';
import { decodeMessageId, encodeMessageId } from './imap-ids';
import type { HostPolicy, ImapAccountSettings } from './imap-settings';

/** A page when the reader names no size. */
export const IMAP_DEFAULT_PAGE_SIZE = 200;

/** SPECIAL-USE attributes (RFC 6154) as the mirror's well-known folder names (those Outlook and FolderInput use). */
export const IMAP_WELL_KNOWN: Readonly<Record<string, string>> = {
  '\\Inbox': 'inbox',
  '\\Sent': 'sentitems',
  '\\Drafts': 'drafts',
  '\\Trash': 'deleteditems',
  '\\Junk': 'junkemail',
  '\\Archive': 'archive',
};

/** What an IMAP mailbox needs: the account's settings (opened from the vault per use), the host policy, and the
 * parts another module implements (the actions and attachments). */
export interface ImapMailboxOptions {
  accountId: string;
  settings: () => Promise<ImapAccountSettings>;
  policy: HostPolicy;
  actions: MailboxActions;
  attachments: MailboxAttachments;
  /**
   * a page holds at most this many bytes of messages (their RFC822.SIZE; at least one message), whatever the page
   * size asked for: every message of a page is fetched whole (default 20 MiB)
   */
  pageBytes?: number;
  /**
   * ask the server for QRESYNC where it has it (default true); false reads as from a server without it (the
   * UID-set comparison), which the integration specs use to exercise that path against Dovecot
   */
  qresync?: boolean;
  /** counts each session's connection attempt and operations (imap-request-metrics.ts) */
  requests?: ImapRequestCounter;
}

/** The bytes of messages one page fetches at most, unless a single message is larger. */
export const IMAP_DEFAULT_PAGE_BYTES = 20 * 1024 * 1024;

/**
 * One account's IMAP mailbox through the provider port: the reader (folder tree, a folder's changes over
 * CONDSTORE/QRESYNC, where a message is) here; the actions and attachments delegated. Every call opens its own
 * session and logs out afterwards (no pooling yet).
 *
 * Ids: a folder is its full mailbox path; a message is `encodeMessageId({path, uidValidity, uid})`, so a moved
 * message gets a new id (the port's `move` answers it).
 *
 * A server with CONDSTORE but without QRESYNC (Gmail) says what changed since a modseq but not what was expunged:
 * there the cursor also keeps the UIDs it served (`ImapCursorState.u`) and a live round compares them with the
 * folder's `UID SEARCH ALL`. A server without CONDSTORE (or a mailbox with NOMODSEQ) cannot say what changed at
 * all: a live cursor is answered with `CursorLostError`, so the mirror reads the folder again from scratch and
 * sweeps what is gone (correct, but a full read every round).
 */
export class ImapMailbox implements Mailbox {
  readonly attachments: MailboxAttachments;
  readonly watch: ConnectionWatch = IMAP_WATCH;

  constructor(private readonly options: ImapMailboxOptions) {
    this.attachments = options.attachments;
  }

  // ---- reading ----

  listFolderTree(): Promise<RemoteFolder[]> {
    return this.session(async (client) => {
      const listed = await client.list({ statusQuery: { messages: true, unseen: true } });
      return folderTree(listed);
    });
  }

  changes(from: ChangesFrom, pageSize = IMAP_DEFAULT_PAGE_SIZE): Promise<ChangesPage> {
    const size: PageLimit = {
      count: Math.max(1, Math.floor(pageSize)),
      bytes: this.options.pageBytes ?? IMAP_DEFAULT_PAGE_BYTES,
    };
    let stored: ImapCursorState | undefined;
    if ('cursor' in from) {
      stored = decodeImapCursor(from.cursor);
      if (!stored) {
        return Promise.reject(new ProviderRefusedError(400, 'InvalidCursor', 'not a cursor of this mailbox'));
      }
    }
    const vanished: number[] = [];
    const path = stored ? stored.p : (from as { folderId: string }).folderId;
    return this.session(
      async (client) => {
        const box = await client.mailboxOpen(path, { readOnly: true });
        if (!stored) return initialPage(client, box, startInitial(box), size);
        if (String(box.uidValidity) !== stored.v) {
          throw new CursorLostError(`the UIDVALIDITY of folder ${path} changed`);
        }
        if (stored.phase === 'initial') return initialPage(client, box, stored, size);
        return livePage(client, box, stored, size, vanished);
      },
      {
        onExpunge: (e: ImapExpunge) => {
          if (e.vanished && e.uid !== undefined && e.path === path) vanished.push(e.uid);
        },
        qresync: this.options.qresync,
      },
    );
  }

  async folderOf(messageId: string): Promise<string | null> {
    const loc = decodeMessageId(messageId);
    if (!loc) return null;
    try {
      return await this.session(async (client) => {
        const box = await client.mailboxOpen(loc.path, { readOnly: true });
        if (String(box.uidValidity) !== String(loc.uidValidity)) return null;
        const found = await client.search({ uid: String(loc.uid) }, { uid: true });
        return Array.isArray(found) && found.includes(loc.uid) ? loc.path : null;
      });
    } catch (err) {
      if (err instanceof ProviderRefusedError && err.status === 404) return null;
      throw err;
    }
  }

  // ---- acting (ImapActions) ----

  setRead(messageId: string, isRead: boolean): Promise<void> {
    return this.options.actions.setRead(messageId, isRead);
  }

  setFlag(messageId: string, flagStatus: FlagStatus): Promise<void> {
    return this.options.actions.setFlag(messageId, flagStatus);
  }

  move(messageId: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }> {
    return this.options.actions.move(messageId, destinationId);
  }

  delete(messageId: string): Promise<{ id: string; parentFolderId: string | null } | null> {
    return this.options.actions.delete(messageId);
  }

  applyMany(messageIds: string[], action: ManyIdsAction, signal?: AbortSignal): Promise<ManyIdsResult[]> {
    const { actions } = this.options;
    if (!actions.applyMany) return Promise.reject(new Error('the IMAP actions act on one id at a time'));
    return actions.applyMany(messageIds, action, signal);
  }

  sendMail(mail: OutgoingMail): Promise<void> {
    return this.options.actions.sendMail(mail);
  }

  reply(messageId: string, opts: ReplyOptions): Promise<void> {
    return this.options.actions.reply(messageId, opts);
  }

  forward(messageId: string, opts: ForwardOptions): Promise<void> {
    return this.options.actions.forward(messageId, opts);
  }

  createReply(messageId: string, opts: ReplyOptions): Promise<string> {
    return this.options.actions.createReply(messageId, opts);
  }

  createForward(messageId: string, opts: ForwardOptions): Promise<string> {
    return this.options.actions.createForward(messageId, opts);
  }

  addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void> {
    return this.options.actions.addAttachment(draftId, attachment);
  }

  sendDraft(draftId: string): Promise<void> {
    return this.options.actions.sendDraft(draftId);
  }

  saveDraft(draft: DraftContent, opts: SaveDraftOptions): Promise<string> {
    return this.options.actions.saveDraft(draft, opts);
  }

  discardDraft(draftId: string): Promise<void> {
    return this.options.actions.discardDraft(draftId);
  }

  folderId(idOrWellKnownName: string): Promise<string | null> {
    return this.options.actions.folderId(idOrWellKnownName);
  }

  newestMessageIds(folder: string, count: number): Promise<string[]> {
    return this.options.actions.newestMessageIds(folder, count);
  }

  // ---- internals ----

  private async session<T>(work: (client: ImapFlow) => Promise<T>, opts?: ImapSessionOptions): Promise<T> {
    const settings = await this.options.settings();
    const requests = this.options.requests;
    return withImapSession(settings.imap, this.options.policy, work, requests ? { ...opts, requests } : opts);
  }
}

/** The folders as the port lists them: selectable ones only, parents before children, well-known names set. */
export function folderTree(listed: ListResponse[]): RemoteFolder[] {
  const selectable = listed.filter(
    (f) => !hasFlag(f.flags, '\\Noselect') && !hasFlag(f.flags, '\\NonExistent'),
  );
  const byPath = new Map(selectable.map((f) => [f.path, f]));
  /** the nearest selectable ancestor (a \Noselect container in between is skipped) */
  const parentOf = (f: ListResponse): string | null => {
    const delimiter = f.delimiter;
    let parent =
      f.parentPath || (delimiter ? f.path.slice(0, Math.max(0, f.path.lastIndexOf(delimiter))) : '');
    while (parent) {
      if (byPath.has(parent)) return parent;
      const at = delimiter ? parent.lastIndexOf(delimiter) : -1;
      parent = at > 0 ? parent.slice(0, at) : '';
    }
    return null;
  };
  const children = new Map<string | null, ListResponse[]>();
  for (const f of selectable) {
    const p = parentOf(f);
    children.set(p, [...(children.get(p) ?? []), f]);
  }
  const ordered: RemoteFolder[] = [];
  const visit = (parent: string | null) => {
    const kids = (children.get(parent) ?? []).sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
    );
    for (const f of kids) {
      ordered.push({
        id: f.path,
        parentFolderId: parent,
        displayName: f.name || f.path,
        wellKnownName: wellKnownName(f),
        totalItemCount: f.status?.messages ?? 0,
        unreadItemCount: f.status?.unseen ?? 0,
      });
      visit(f.path);
    }
  };
  visit(null);
  return ordered;
}

function wellKnownName(f: ListResponse): string | null {
  if (f.path.toUpperCase() === 'INBOX') return 'inbox';
  return f.specialUse ? (IMAP_WELL_KNOWN[f.specialUse] ?? null) : null;
}

const hasFlag = (flags: Set<string> | undefined, flag: string): boolean =>
  [...(flags ?? [])].some((f) => f.toLowerCase() === flag.toLowerCase());

function startInitial(box: MailboxObject): ImapCursorState {
  return {
    p: box.path,
    v: String(box.uidValidity),
    phase: 'initial',
    m: '0',
    top: String(box.highestModseq ?? 0n),
    after: 0,
  };
}

/** caught up: the next round reads what changed after `top` */
const caughtUp = (state: ImapCursorState): string =>
  encodeImapCursor({ ...state, phase: 'live', m: state.top, after: 0 });

/** From scratch: the folder's messages in UID order after `after`, one FETCH per page. */
async function initialPage(
  client: ImapFlow,
  box: MailboxObject,
  state: ImapCursorState,
  limit: PageLimit,
): Promise<ChangesPage> {
  const uids = box.exists > 0 ? await uidsAfter(client, state.after) : [];
  const served = await pageOf(client, uids, limit);
  const messages = await fetchMessages(client, box, served);
  // without QRESYNC the cursor keeps what it served, to find what is expunged later (see ImapCursorState.u)
  const next = client.enabled.has('QRESYNC')
    ? state
    : { ...state, u: formatUidSet([...parseUidSet(state.u ?? ''), ...messages.map((m) => uidOf(m))]) };
  if (uids.length > served.length) {
    return {
      messages,
      removedIds: [],
      nextCursor: encodeImapCursor({ ...next, after: served[served.length - 1] }),
    };
  }
  return { messages, removedIds: [], cursor: caughtUp(next) };
}

/**
 * From a live cursor: what CONDSTORE reports changed since `m` (new messages and changed flags; paged by UID) and,
 * on the round's first page, what QRESYNC reports VANISHED since `m`.
 */
async function livePage(
  client: ImapFlow,
  box: MailboxObject,
  stored: ImapCursorState,
  limit: PageLimit,
  vanished: number[],
): Promise<ChangesPage> {
  const condstore = box.highestModseq !== undefined && !box.noModseq;
  const qresync = client.enabled.has('QRESYNC');
  if (!condstore) {
    // nothing on this server tells what changed since the cursor: read the folder again
    throw new CursorLostError(`folder ${box.path}: the server cannot report changes (no CONDSTORE)`);
  }
  if (!qresync && stored.u === undefined) {
    // a cursor written while the server had QRESYNC (or before the UID set was kept): read the folder once more
    throw new CursorLostError(`folder ${box.path}: no QRESYNC, and the cursor holds no UID set`);
  }
  const firstPage = stored.after === 0;
  let state: ImapCursorState = firstPage ? { ...stored, top: String(box.highestModseq) } : stored;
  if (!qresync && firstPage) {
    // what QRESYNC's VANISHED would say: the UIDs served before that the folder no longer has
    const present = new Set(await allUids(client));
    const known = parseUidSet(stored.u ?? '');
    const gone = known.filter((uid) => !present.has(uid));
    vanished.push(...gone);
    state = { ...state, u: formatUidSet(known.filter((uid) => present.has(uid))) };
  }
  if (firstPage && state.top === state.m) {
    return { messages: [], removedIds: removedOf(box, firstPage ? vanished : []), cursor: caughtUp(state) };
  }
  const changed: number[] = [];
  // UID FETCH 1:<max> (UID FLAGS) (CHANGEDSINCE m VANISHED): the VANISHED (EARLIER) answers reach `vanished`.
  // Not `1:*`: `*` is the highest UID left, so an expunged message above it would never be reported.
  for await (const msg of client.fetch(
    `1:${MAX_UID}`,
    { uid: true, flags: true },
    { uid: true, changedSince: BigInt(state.m) },
  )) {
    if (msg.uid > state.after) changed.push(msg.uid);
  }
  changed.sort((a, b) => a - b);
  const served = await pageOf(client, changed, limit);
  const messages = await fetchMessages(client, box, served);
  const removedIds = removedOf(box, firstPage ? vanished : []);
  if (!qresync) {
    state = { ...state, u: formatUidSet([...parseUidSet(state.u ?? ''), ...messages.map((m) => uidOf(m))]) };
  }
  if (changed.length > served.length) {
    return {
      messages,
      removedIds,
      nextCursor: encodeImapCursor({ ...state, after: served[served.length - 1] }),
    };
  }
  return { messages, removedIds, cursor: caughtUp(state) };
}

/** the ids of a folder's vanished UIDs, once each */
const removedOf = (box: Pick<MailboxObject, 'path' | 'uidValidity'>, uids: number[]): string[] =>
  [...new Set(uids)].map((uid) => encodeMessageId({ path: box.path, uidValidity: box.uidValidity, uid }));

/** a served message's UID (its id is uidValidity.uid.path) */
function uidOf(message: RemoteMessage): number {
  const loc = decodeMessageId(message.id);
  if (!loc) throw new Error(`not an IMAP message id: ${message.id}`);
  return loc.uid;
}

/** every UID of the open folder */
async function allUids(client: ImapFlow): Promise<number[]> {
  const found = await client.search({ all: true }, { uid: true });
  return Array.isArray(found) ? found : [];
}

interface PageLimit {
  count: number;
  bytes: number;
}

/** the first UIDs of `uids` that fit a page: at most `count`, and at most `bytes` of messages (at least one) */
async function pageOf(client: ImapFlow, uids: number[], limit: PageLimit): Promise<number[]> {
  const candidates = uids.slice(0, limit.count);
  if (candidates.length <= 1) return candidates;
  const sized = await client.fetchAll(candidates.join(','), { uid: true, size: true }, { uid: true });
  const sizes = new Map(sized.map((m) => [m.uid, m.size ?? 0]));
  const page: number[] = [];
  let bytes = 0;
  for (const uid of candidates) {
    const size = sizes.get(uid) ?? 0; // gone meanwhile: nothing to fetch
    if (page.length > 0 && bytes + size > limit.bytes) break;
    page.push(uid);
    bytes += size;
  }
  return page;
}

/** the highest UID there can be (RFC 3501: a non-zero 32-bit number) */
const MAX_UID = 4294967295;

/** the folder's UIDs after `after`, ascending */
async function uidsAfter(client: ImapFlow, after: number): Promise<number[]> {
  const found = await client.search({ uid: `${after + 1}:*` }, { uid: true });
  // `n:*` always matches the highest UID, even below n
  return (Array.isArray(found) ? found : []).filter((uid) => uid > after).sort((a, b) => a - b);
}

/** the given messages of the open folder, whole, in one UID FETCH */
async function fetchMessages(client: ImapFlow, box: MailboxObject, uids: number[]): Promise<RemoteMessage[]> {
  if (uids.length === 0) return [];
  const fetched = await client.fetchAll(
    uids.join(','),
    { uid: true, flags: true, envelope: true, internalDate: true, size: true, source: true },
    { uid: true },
  );
  const wanted = new Set(uids);
  const messages: RemoteMessage[] = [];
  for (const msg of fetched.sort((a, b) => a.uid - b.uid)) {
    if (wanted.has(msg.uid)) messages.push(await toRemoteMessage(box, msg));
  }
  return messages;
}

/** a fetched message as the port's message (the mirror's fields) */
export async function toRemoteMessage(
  box: Pick<MailboxObject, 'path' | 'uidValidity'>,
  msg: FetchMessageObject,
): Promise<RemoteMessage> {
  // a message whose MIME cannot be parsed is still mirrored (from its envelope, without a body): one broken mail
  // must not stop its folder's sync for good
  const parsed = msg.source
    ? await simpleParser(msg.source, {
        skipHtmlToText: false,
        skipTextToHtml: true,
        skipTextLinks: true,
      }).catch(() => undefined)
    : undefined;
  const env = msg.envelope;
  const flags = msg.flags ?? new Set<string>();
  const html = typeof parsed?.html === 'string' ? parsed.html : null;
  const text = parsed?.text ?? '';
  const body: RemoteMessage['body'] = html
    ? { contentType: 'html', content: html }
    : { contentType: 'text', content: text };
  const messageIdHeader = env?.messageId ?? parsed?.messageId ?? null;
  return {
    id: encodeMessageId({ path: box.path, uidValidity: box.uidValidity, uid: msg.uid }),
    folderId: box.path,
    changeKey: changeKey(msg),
    subject: env?.subject ?? parsed?.subject ?? '',
    from: recipient(env?.from?.[0]),
    toRecipients: recipients(env?.to),
    ccRecipients: recipients(env?.cc),
    bodyPreview: preview(text || (html ? html.replace(/<[^>]*>/g, ' ') : '')),
    body,
    receivedAt: isoDate(msg.internalDate) ?? isoDate(env?.date) ?? new Date(0).toISOString(),
    sentAt: isoDate(env?.date) ?? null,
    isRead: flags.has('\\Seen'),
    isDraft: flags.has('\\Draft'),
    flagStatus: flagStatusOf(flags),
    importance: (parsed as { priority?: RemoteMessage['importance'] } | undefined)?.priority ?? 'normal',
    hasAttachments: (parsed?.attachments ?? []).some((a) => !a.related && a.contentDisposition !== 'inline'),
    // IMAP has no conversations: the mirror core threads the message by these headers (libs/database threading.ts)
    conversationId: null,
    internetMessageId: messageIdHeader,
    inReplyTo: env?.inReplyTo ?? parsed?.inReplyTo ?? null,
    references: typeof parsed?.references === 'string' ? [parsed.references] : (parsed?.references ?? []),
  };
}

/** the message's MODSEQ (changes with every flag change); a hash of the flags where the server has none */
function changeKey(msg: FetchMessageObject): string {
  if (msg.modseq !== undefined) return String(msg.modseq);
  const flags = [...(msg.flags ?? [])].sort().join(' ');
  return `f:${createHash('sha256').update(`${msg.uid} ${flags}`).digest('base64url').slice(0, 22)}`;
}

/** \Flagged → flagged; else the $Completed keyword → complete; else notFlagged */
export function flagStatusOf(flags: Set<string>): FlagStatus {
  if (flags.has('\\Flagged')) return 'flagged';
  if ([...flags].some((f) => f.toLowerCase() === '$completed')) return 'complete';
  return 'notFlagged';
}

function recipient(a: MessageAddressObject | undefined): RecipientInput | null {
  if (!a?.address) return null;
  return { name: a.name || a.address, address: a.address };
}

function recipients(list: MessageAddressObject[] | undefined): RecipientInput[] {
  return (list ?? []).map(recipient).filter((r): r is RecipientInput => r !== null);
}

function isoDate(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function preview(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

/**
 * An IMAP mailbox is watched over a connection of our own (IDLE, and STATUS polls of the other folders), which the
 * consumer's IMAP watcher (apps/consumer/src/imap-idle) holds: nothing is kept at the server for it, so the port has
 * no channels to open, renew or close (the subscriptions feature leaves IMAP accounts alone).
 */
export const IMAP_WATCH: ConnectionWatch = Object.freeze({ kind: 'connection' });
