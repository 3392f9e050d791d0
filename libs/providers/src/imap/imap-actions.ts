import { Logger } from '@nestjs/common';
import type { ImapFlow, MailboxObject } from 'imapflow';
import type Mail from 'nodemailer/lib/mailer';
import type {
  DraftContent,
  SaveDraftOptions,
  FlagStatus,
  MailboxActions,
  ManyIdsAction,
  ManyIdsResult,
  OutgoingAttachment,
  OutgoingMail,
  ReplyOptions,
  ForwardOptions,
} from '../port';
import { ProviderRefusedError, ProviderUnavailableError } from '../port';
import {
  DRAFT_ID_HEADER,
  bccOf,
  composeMessage,
  draftIdOf,
  forwardOptions,
  newMailOptions,
  parseMessage,
  rebuildOptions,
  replyOptions,
  sentCopy,
  type ComposedMessage,
} from './imap-compose';
import { imapCall, itemNotFound } from './imap-errors';
import { discardDraftMessage, saveDraftVersion } from './imap-drafts';
import { applyToMany } from './imap-many';
import { decodeMessageId, encodeMessageId, type ImapMessageLocation } from './imap-ids';
import type { HostPolicy, ImapAccountSettings } from './imap-settings';
import type { SmtpRequestCounter } from './imap-request-metrics';
import { sendRawMail, type HostResolver } from './imap-smtp';

/**
 * The IMAP adapter's mail actions (the port's `MailboxActions`) over IMAP and SMTP.
 *
 * - Read/flag: `\Seen`; `\Flagged` for 'flagged'. IMAP has no "completed" flag: 'complete' removes `\Flagged` and
 *   sets the keyword `$Completed` (kept only where the mailbox's PERMANENTFLAGS allow keywords; elsewhere
 *   'complete' reads back as 'notFlagged'); 'flagged' and 'notFlagged' remove `$Completed`.
 * - Move: UID MOVE, the new id from COPYUID (the destination's UIDVALIDITY and the new UID); without MOVE, imapflow
 *   does COPY + STORE \Deleted + (UID) EXPUNGE; without UIDPLUS the new UID is looked up in the destination by
 *   Message-ID among the UIDs from its UIDNEXT before the move.
 * - Delete: a move to the `\Trash` special-use folder; a message already in Trash (or a mailbox without one) is
 *   expunged (UID EXPUNGE with UIDPLUS; plain EXPUNGE without it also removes other `\Deleted` messages there).
 * - Many ids at once (`applyMany`, the consumer's bulk commands and multi-select): the same, set-based, one UID
 *   command per folder and ≤ 500 UIDs, on one session (imap-many.ts).
 * - Sending: SMTP (imap-smtp.ts), the message composed once (imap-compose.ts); then the same raw message is
 *   APPENDed to the `\Sent` folder with `\Seen` (with a Bcc header in front when it had Bcc recipients), unless
 *   the server files sent mail itself (`sentCopy`), or Sent already holds a message with that Message-ID. A
 *   failure to file the copy is logged, never thrown: the mail has gone (a retry would send it twice).
 * - Drafts (createReply/createForward): APPENDed to `\Drafts` with `\Draft \Seen`; the draft's id is a normal
 *   message id. addAttachment rebuilds the draft with the file (APPEND the new one, expunge the old one), so the
 *   draft moves to a new UID: the new one carries `X-Email-Core-Draft-Id: <the id first answered>`, and
 *   addAttachment/sendDraft/delete, given an id whose UID is gone, find the draft by that header in the same
 *   folder. The port's callers keep using the first id; the mirror sees the old id vanish and a new message.
 *   sendDraft sends the draft as rebuilt (no draft header, no Bcc header on the wire), files it in Sent and
 *   expunges the draft.
 *
 * Every call opens its own session (`open`) and logs out at the end. Ids that do not decode, a stale UIDVALIDITY
 * or a missing UID raise `ProviderRefusedError(404, 'ErrorItemNotFound')`.
 */

/** A connected, logged-in session; the callee logs out when it is done with it. */
export type OpenImapSession = () => Promise<ImapFlow>;

/**
 * Who files sent mail in Sent. 'append': we APPEND the copy; 'server': the server files what goes through its
 * SMTP itself (Gmail does; so do some hosted Exchange setups), so we do not; 'auto' (default): 'server' when the
 * IMAP server is Gmail (it advertises `X-GM-EXT-1`), else 'append'.
 */
export type SentCopyMode = 'append' | 'server' | 'auto';

export interface ImapActionsDeps {
  open: OpenImapSession;
  account: ImapAccountSettings;
  policy: HostPolicy;
  sentCopy?: SentCopyMode;
  /** the SSRF guard's resolver (tests may replace it) */
  resolveHost?: HostResolver;
  /** counts each SMTP send (imap-request-metrics.ts) */
  smtpRequests?: SmtpRequestCounter;
}

/** The port's well-known folder names and the SPECIAL-USE attribute (RFC 6154) each one maps to. */
export const WELL_KNOWN_FOLDERS: Record<string, string> = {
  inbox: '\\Inbox',
  sentitems: '\\Sent',
  drafts: '\\Drafts',
  deleteditems: '\\Trash',
  junkemail: '\\Junk',
  archive: '\\Archive',
};

const FLAGGED = '\\Flagged';
const COMPLETED = '$Completed';
const SEEN = '\\Seen';

const logger = new Logger('ImapActions');

/** The location a message id stands for; an id that does not decode is a missing message. */
export function locate(messageId: string): ImapMessageLocation {
  const loc = decodeMessageId(messageId);
  if (!loc) throw itemNotFound(`no message ${messageId}`);
  return loc;
}

/** Runs `work` on a fresh session, logging out afterwards; failures as port errors. */
export async function inSession<T>(
  open: OpenImapSession,
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = await imapCall(open);
  try {
    return await imapCall(() => work(client));
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Runs `work` with `path` selected (a missing mailbox: 404). */
export async function inMailbox<T>(
  client: ImapFlow,
  path: string,
  work: (mailbox: MailboxObject) => Promise<T>,
): Promise<T> {
  const lock = await imapCall(() => client.getMailboxLock(path));
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw itemNotFound(`mailbox ${path} is not selected`);
    return await imapCall(() => work(mailbox));
  } finally {
    lock.release();
  }
}

/** imapflow answers `false` for a command the server refused (NO/BAD) or a connection that broke meanwhile. */
export function checked<T>(client: ImapFlow, result: T | false | undefined, what: string): T {
  if (result !== false && result !== undefined) return result;
  if (!client.usable)
    throw new ProviderUnavailableError(0, 'NoConnection', `${what}: the connection was lost`);
  throw new ProviderRefusedError(400, 'IMAP_NO', `the server refused to ${what}`);
}

/** Whether the selected mailbox (the message's) still holds the message at that UID under that UIDVALIDITY. */
async function exists(client: ImapFlow, mailbox: MailboxObject, loc: ImapMessageLocation): Promise<boolean> {
  if (BigInt(mailbox.uidValidity) !== BigInt(loc.uidValidity)) return false;
  const found = await client.fetchOne(String(loc.uid), { uid: true }, { uid: true });
  return found !== false && found.uid === loc.uid;
}

/** Throws 404 unless the selected mailbox holds the message. */
async function requireMessage(
  client: ImapFlow,
  mailbox: MailboxObject,
  loc: ImapMessageLocation,
): Promise<void> {
  if (!(await exists(client, mailbox, loc))) throw itemNotFound(`no message ${encodeMessageId(loc)}`);
}

/**
 * Where a draft is now: its own location, or (its UID gone after addAttachment rebuilt it) the newest message of
 * the same folder carrying `X-Email-Core-Draft-Id: <draftId>`. 404 when neither.
 */
export async function locateDraft(client: ImapFlow, draftId: string): Promise<ImapMessageLocation> {
  const loc = locate(draftId);
  return inMailbox(client, loc.path, async (mailbox) => {
    if (await exists(client, mailbox, loc)) return loc;
    const uids = (await client.search({ header: { [DRAFT_ID_HEADER]: draftId } }, { uid: true })) || [];
    if (uids.length === 0) throw itemNotFound(`no draft ${draftId}`);
    return { path: loc.path, uidValidity: mailbox.uidValidity, uid: Math.max(...uids) };
  });
}

/** Marks a message read (`\Seen`) or unread. */
export async function setRead(client: ImapFlow, loc: ImapMessageLocation, isRead: boolean): Promise<void> {
  await inMailbox(client, loc.path, async (mailbox) => {
    await requireMessage(client, mailbox, loc);
    const range = String(loc.uid);
    const done = isRead
      ? await client.messageFlagsAdd(range, [SEEN], { uid: true })
      : await client.messageFlagsRemove(range, [SEEN], { uid: true });
    checked(client, done, `mark the message ${isRead ? 'read' : 'unread'}`);
  });
}

/** Whether the selected mailbox keeps a keyword (PERMANENTFLAGS lists it, or `\*`, or says nothing). */
export function keepsKeyword(mailbox: MailboxObject, keyword: string): boolean {
  const p = mailbox.permanentFlags;
  return !p || p.size === 0 || p.has('\\*') || p.has(keyword);
}

/**
 * The flags a flag status stores in the selected mailbox: 'flagged' (+\Flagged −$Completed), 'notFlagged'
 * (−\Flagged −$Completed), 'complete' (−\Flagged, +$Completed where the mailbox keeps keywords).
 */
export function flagChanges(
  mailbox: MailboxObject,
  flagStatus: FlagStatus,
): { add: string[]; remove: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  (flagStatus === 'flagged' ? add : remove).push(FLAGGED);
  if (flagStatus === 'complete' && keepsKeyword(mailbox, COMPLETED)) add.push(COMPLETED);
  else if (flagStatus !== 'complete') remove.push(COMPLETED);
  return { add, remove };
}

/** Flags a message: 'flagged' (+\Flagged), 'notFlagged' (−\Flagged), 'complete' (−\Flagged +$Completed). */
export async function setFlag(
  client: ImapFlow,
  loc: ImapMessageLocation,
  flagStatus: FlagStatus,
): Promise<void> {
  await inMailbox(client, loc.path, async (mailbox) => {
    await requireMessage(client, mailbox, loc);
    const range = String(loc.uid);
    const { add, remove } = flagChanges(mailbox, flagStatus);
    if (remove.length > 0) {
      checked(client, await client.messageFlagsRemove(range, remove, { uid: true }), 'unflag the message');
    }
    if (add.length > 0) {
      checked(client, await client.messageFlagsAdd(range, add, { uid: true }), 'flag the message');
    }
  });
}

/**
 * Moves a message to `destPath` (a mailbox path) and answers where it is now. With COPYUID (UIDPLUS) that is
 * the destination's UIDVALIDITY and the new UID; without, the destination is searched by Message-ID among the
 * UIDs above its UIDNEXT before the move.
 */
export async function moveMessage(
  client: ImapFlow,
  loc: ImapMessageLocation,
  destPath: string,
): Promise<ImapMessageLocation> {
  if (destPath === loc.path) {
    await inMailbox(client, loc.path, (mailbox) => requireMessage(client, mailbox, loc));
    return loc;
  }
  const before = await client.status(destPath, { uidNext: true, uidValidity: true });
  if (!before) throw itemNotFound(`no folder ${destPath}`);
  const moved = await inMailbox(client, loc.path, async (mailbox) => {
    await requireMessage(client, mailbox, loc);
    const envelope = await client.fetchOne(String(loc.uid), { envelope: true }, { uid: true });
    const messageId = envelope ? envelope.envelope?.messageId : undefined;
    const result = checked(
      client,
      await client.messageMove(String(loc.uid), destPath, { uid: true }),
      'move the message',
    );
    return { result, messageId };
  });
  const newUid = moved.result.uidMap?.get(loc.uid);
  if (newUid !== undefined && moved.result.uidValidity !== undefined) {
    return { path: destPath, uidValidity: moved.result.uidValidity, uid: newUid };
  }
  return inMailbox(client, destPath, async (mailbox) => {
    const from = before.uidNext ?? 1;
    const query = moved.messageId
      ? { uid: `${from}:*`, header: { 'message-id': moved.messageId } }
      : { uid: `${from}:*` };
    const uids = ((await client.search(query, { uid: true })) || []).filter((u) => u >= from);
    if (uids.length === 0) {
      throw new ProviderUnavailableError(
        0,
        'MovedNotFound',
        `moved to ${destPath}, but the new UID is unknown`,
      );
    }
    return { path: destPath, uidValidity: mailbox.uidValidity, uid: Math.max(...uids) };
  });
}

/** The path of the folder with a SPECIAL-USE attribute (`\Sent`, `\Trash`, ...), or null. */
export async function specialUseFolder(client: ImapFlow, specialUse: string): Promise<string | null> {
  const folders = await client.list();
  const match = (source: string | undefined) =>
    folders.find(
      (f) => f.specialUse === specialUse && (source === undefined || f.specialUseSource === source),
    );
  // what the server (or a hint) says first; a folder imapflow only guessed by its name after
  const found = match('extension') ?? match('user') ?? match(undefined);
  if (found) return found.path;
  return specialUse === '\\Inbox'
    ? (folders.find((f) => f.path.toUpperCase() === 'INBOX')?.path ?? null)
    : null;
}

/** A folder's path from a well-known name ('sentitems', case-insensitive) or a path; null when absent. */
export async function resolveFolder(client: ImapFlow, idOrWellKnownName: string): Promise<string | null> {
  const specialUse = WELL_KNOWN_FOLDERS[idOrWellKnownName.toLowerCase()];
  if (specialUse) {
    const path = await specialUseFolder(client, specialUse);
    if (path) return path;
  }
  const folders = await client.list();
  const exact = folders.find((f) => f.path === idOrWellKnownName && !f.flags.has('\\Noselect'));
  return exact ? exact.path : null;
}

/**
 * Deletes a message as mail clients do: moves it to Trash (answering where it is there: a new UID); a message
 * already in Trash (or in a mailbox without a Trash folder) is removed for good (null).
 */
export async function deleteMessage(
  client: ImapFlow,
  loc: ImapMessageLocation,
): Promise<ImapMessageLocation | null> {
  const trash = await specialUseFolder(client, '\\Trash');
  if (trash !== null && trash !== loc.path) return moveMessage(client, loc, trash);
  await expungeMessage(client, loc);
  return null;
}

/** Removes a message for good (`\Deleted` + UID EXPUNGE). */
export async function expungeMessage(client: ImapFlow, loc: ImapMessageLocation): Promise<void> {
  await inMailbox(client, loc.path, async (mailbox) => {
    await requireMessage(client, mailbox, loc);
    checked(client, await client.messageDelete(String(loc.uid), { uid: true }), 'delete the message');
  });
}

/** The ids of a folder's newest messages (the highest UIDs: the last ones filed there), newest first. */
export async function newestMessageIds(client: ImapFlow, path: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  return inMailbox(client, path, async (mailbox) => {
    if (mailbox.exists === 0) return [];
    const from = Math.max(1, mailbox.exists - count + 1);
    const uids: number[] = [];
    for await (const m of client.fetch(`${from}:*`, { uid: true })) uids.push(m.uid);
    return uids
      .sort((a, b) => b - a)
      .slice(0, count)
      .map((uid) => encodeMessageId({ path, uidValidity: mailbox.uidValidity, uid }));
  });
}

/** The raw source of a message (404 when it is gone). */
export async function fetchSource(client: ImapFlow, loc: ImapMessageLocation): Promise<Buffer> {
  return inMailbox(client, loc.path, async (mailbox) => {
    if (BigInt(mailbox.uidValidity) !== BigInt(loc.uidValidity)) {
      throw itemNotFound(`no message ${encodeMessageId(loc)}`);
    }
    const m = await client.fetchOne(String(loc.uid), { uid: true, source: true }, { uid: true });
    if (!m || m.uid !== loc.uid || !m.source) throw itemNotFound(`no message ${encodeMessageId(loc)}`);
    return m.source;
  });
}

/** APPENDs a raw message and answers its location (404 when the folder is missing). */
export async function appendMessage(
  client: ImapFlow,
  path: string,
  raw: Buffer,
  flags: string[],
): Promise<ImapMessageLocation> {
  const appended = checked(client, await client.append(path, raw, flags), `file the message in ${path}`);
  if (appended.uid !== undefined && appended.uidValidity !== undefined) {
    return { path: appended.destination, uidValidity: appended.uidValidity, uid: appended.uid };
  }
  // without APPENDUID: the newest message of the folder is the one just appended
  return inMailbox(client, path, async (mailbox) => {
    const uids = (await client.search({ all: true }, { uid: true })) || [];
    if (uids.length === 0) throw new ProviderUnavailableError(0, 'AppendedNotFound', `appended to ${path}`);
    return { path, uidValidity: mailbox.uidValidity, uid: Math.max(...uids) };
  });
}

/** Whether a folder holds a message with that Message-ID. */
async function holdsMessageId(client: ImapFlow, path: string, messageId: string): Promise<boolean> {
  return inMailbox(client, path, async () => {
    const uids = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
    return uids.length > 0;
  });
}

/** The port's `MailboxActions` for one IMAP/SMTP account; every call on a session of its own. */
export class ImapActions implements MailboxActions {
  constructor(private readonly deps: ImapActionsDeps) {}

  async setRead(messageId: string, isRead: boolean): Promise<void> {
    const loc = locate(messageId);
    return await this.session((c) => setRead(c, loc, isRead));
  }

  async setFlag(messageId: string, flagStatus: FlagStatus): Promise<void> {
    const loc = locate(messageId);
    return await this.session((c) => setFlag(c, loc, flagStatus));
  }

  async move(
    messageId: string,
    destinationId: string,
  ): Promise<{ id: string; parentFolderId: string | null }> {
    const loc = locate(messageId);
    return await this.session(async (c) => {
      const dest = await resolveFolder(c, destinationId);
      if (dest === null) throw itemNotFound(`no folder ${destinationId}`);
      const now = await moveMessage(c, loc, dest);
      return { id: encodeMessageId(now), parentFolderId: now.path };
    });
  }

  /** Read, flag, move or delete on many ids: one session, one UID command per folder and set (imap-many.ts). */
  applyMany(messageIds: string[], action: ManyIdsAction, signal?: AbortSignal): Promise<ManyIdsResult[]> {
    return this.session((c) => applyToMany(c, messageIds, action, signal));
  }

  /**
   * Deletes a message (to Trash: answers its id and folder there; from Trash: gone, null); a draft's first id finds
   * the draft after addAttachment rebuilt it.
   */
  async delete(messageId: string): Promise<{ id: string; parentFolderId: string | null } | null> {
    locate(messageId);
    return await this.session(async (c) => {
      const now = await deleteMessage(c, await locateDraft(c, messageId));
      return now && { id: encodeMessageId(now), parentFolderId: now.path };
    });
  }

  async sendMail(mail: OutgoingMail): Promise<void> {
    const composed = await composeMessage(newMailOptions(this.deps.account.email, mail));
    await this.deliver(composed);
    await this.fileSent(sentCopy(composed.raw, mail.bccRecipients), composed.messageId);
  }

  async reply(messageId: string, opts: ReplyOptions): Promise<void> {
    const original = await this.original(messageId);
    const composed = await composeMessage(replyOptions(original, this.deps.account.email, opts));
    await this.deliver(composed);
    await this.fileSent(sentCopy(composed.raw, opts.bccRecipients ?? []), composed.messageId);
  }

  async forward(messageId: string, opts: ForwardOptions): Promise<void> {
    const original = await this.original(messageId);
    const composed = await composeMessage(forwardOptions(original, this.deps.account.email, opts));
    await this.deliver(composed);
    await this.fileSent(sentCopy(composed.raw, opts.bccRecipients ?? []), composed.messageId);
  }

  async createReply(messageId: string, opts: ReplyOptions): Promise<string> {
    const original = await this.original(messageId);
    return this.appendDraft(replyOptions(original, this.deps.account.email, opts));
  }

  async createForward(messageId: string, opts: ForwardOptions): Promise<string> {
    const original = await this.original(messageId);
    return this.appendDraft(forwardOptions(original, this.deps.account.email, opts));
  }

  /** Rebuilds the draft with the file (a new UID; the first id keeps finding it, see the class comment). */
  async addAttachment(draftId: string, file: OutgoingAttachment): Promise<void> {
    locate(draftId);
    return await this.session(async (c) => {
      const at = await locateDraft(c, draftId);
      const draft = await parseMessage(await fetchSource(c, at));
      const firstId = draftIdOf(draft) ?? draftId;
      const rebuilt = await composeMessage(
        rebuildOptions(draft, this.deps.account.email, [file], firstId),
        true,
      );
      await appendMessage(c, at.path, rebuilt.raw, ['\\Draft', SEEN]);
      await expungeMessage(c, at);
    });
  }

  /** Sends the draft as it is now, files it in Sent and removes it from Drafts. */
  async sendDraft(draftId: string): Promise<void> {
    locate(draftId);
    const { at, draft } = await this.session(async (c) => {
      const loc = await locateDraft(c, draftId);
      return { at: loc, draft: await parseMessage(await fetchSource(c, loc)) };
    });
    const composed = await composeMessage(rebuildOptions(draft, this.deps.account.email, [], undefined));
    await this.deliver(composed);
    await this.fileSent(sentCopy(composed.raw, bccOf(draft)), composed.messageId);
    await this.session((c) => expungeMessage(c, at)).catch((err: unknown) => {
      logger.warn(`the draft was sent but could not be removed from Drafts: ${(err as Error).message}`);
    });
  }

  /** A new version of the draft in Drafts, the replaced one expunged (imap-drafts.ts). */
  saveDraft(draft: DraftContent, opts: SaveDraftOptions): Promise<string> {
    return saveDraftVersion(
      (work) => this.session(work),
      this.deps.account.email,
      draft,
      opts,
      (messageId) => this.session((c) => fetchSource(c, locate(messageId))),
    );
  }

  discardDraft(draftId: string): Promise<void> {
    locate(draftId);
    return this.session((c) => discardDraftMessage(c, draftId));
  }

  folderId(idOrWellKnownName: string): Promise<string | null> {
    return this.session((c) => resolveFolder(c, idOrWellKnownName));
  }

  newestMessageIds(folder: string, count: number): Promise<string[]> {
    return this.session(async (c) => {
      const path = await resolveFolder(c, folder);
      if (path === null) throw itemNotFound(`no folder ${folder}`);
      return newestMessageIds(c, path, count);
    });
  }

  private session<T>(work: (client: ImapFlow) => Promise<T>): Promise<T> {
    return inSession(this.deps.open, work);
  }

  /** The message replied to or forwarded, parsed (404 when it is gone). */
  private async original(messageId: string) {
    const loc = locate(messageId);
    const source = await this.session((c) => fetchSource(c, loc));
    return parseMessage(source);
  }

  private deliver(composed: ComposedMessage): Promise<void> {
    if (composed.envelope.to.length === 0) {
      return Promise.reject(
        new ProviderRefusedError(400, 'ErrorInvalidRecipients', 'the mail has no recipients'),
      );
    }
    const { smtp } = this.deps.account;
    return sendRawMail(smtp, this.deps.policy, composed.envelope, composed.raw, {
      resolveHost: this.deps.resolveHost,
      ...(this.deps.smtpRequests ? { requests: this.deps.smtpRequests } : {}),
    });
  }

  /** APPENDs a draft to Drafts with `\Draft`; answers its id. */
  private async appendDraft(options: Mail.Options): Promise<string> {
    const composed = await composeMessage(options, true);
    return this.session(async (c) => {
      const drafts = await specialUseFolder(c, '\\Drafts');
      if (drafts === null) throw itemNotFound('the mailbox has no Drafts folder');
      return encodeMessageId(await appendMessage(c, drafts, composed.raw, ['\\Draft', SEEN]));
    });
  }

  /**
   * Files a sent message in Sent, exactly once: not when the server files it itself, not when Sent already holds
   * that Message-ID. Never throws (the mail has gone): a failure is logged.
   */
  private async fileSent(raw: Buffer, messageId: string): Promise<void> {
    try {
      await this.session(async (c) => {
        if (this.sentMode(c) === 'server') return;
        const sent = await specialUseFolder(c, '\\Sent');
        if (sent === null) {
          logger.warn('the mailbox has no Sent folder: the sent mail is not filed');
          return;
        }
        if (await holdsMessageId(c, sent, messageId)) return;
        await appendMessage(c, sent, raw, [SEEN]);
      });
    } catch (err) {
      logger.warn(`the mail was sent but could not be filed in Sent: ${(err as Error).message}`);
    }
  }

  /** Gmail files what goes through its SMTP in "[Gmail]/Sent Mail" itself; it says so by X-GM-EXT-1. */
  private sentMode(client: ImapFlow): 'append' | 'server' {
    const mode = this.deps.sentCopy ?? 'auto';
    if (mode !== 'auto') return mode;
    return client.capabilities.has('X-GM-EXT-1') ? 'server' : 'append';
  }
}
