import { Injectable } from '@nestjs/common';
import { decodeId, guidFrom, IdKind } from './ids';
import {
  bodyPreview,
  hashSeed,
  htmlToText,
  SEED_FOLDER_SHARES,
  seedState,
  seededAttachment,
  seededContent,
} from './generator';
import type { AttachmentContent, EmailAddress, MessageContent } from './model';
import { FolderRecord, Mailbox, MessageRecord, Removal } from './model';

export type ChangeKind = 'created' | 'updated' | 'deleted';

/** one change to one message as seen from one folder: what subscriptions are notified of */
export interface MailboxChange {
  mailbox: Mailbox;
  kind: ChangeKind;
  message: MessageRecord;
  folder: FolderRecord;
  /** the message's regular id as of this change (for a move's `deleted`, the id it had before) */
  id: string;
}
export type ChangeListener = (change: MailboxChange) => void;

export interface SeedOptions {
  messages: number;
  /** custom folders besides the well-known ones (one of them nested); default 3 */
  folders?: number;
  seed?: number;
}

export interface CreateMailboxInput {
  address: string;
  displayName?: string;
  password?: string;
  seed?: SeedOptions;
}

export interface NewMessageInput {
  subject?: string;
  body?: { contentType?: 'html' | 'text'; content?: string };
  from?: EmailAddress;
  toRecipients?: EmailAddress[];
  ccRecipients?: EmailAddress[];
  bccRecipients?: EmailAddress[];
  replyTo?: EmailAddress[];
  importance?: 'low' | 'normal' | 'high';
  categories?: string[];
  isRead?: boolean;
  isDraft?: boolean;
  flagStatus?: 'notFlagged' | 'flagged' | 'complete';
  receivedDateTime?: string;
  /** defaults to receivedDateTime */
  sentDateTime?: string;
  internetMessageId?: string;
  conversationId?: string;
  conversationIndex?: string;
  isReadReceiptRequested?: boolean;
  inferenceClassification?: 'focused' | 'other';
  attachments?: AttachmentContent[];
}

export interface MessagePatch {
  isRead?: boolean;
  flag?: number;
  subject?: string;
  body?: { contentType: 'html' | 'text'; content: string };
  importance?: 'low' | 'normal' | 'high';
  categories?: string[];
  inferenceClassification?: 'focused' | 'other';
  toRecipients?: EmailAddress[];
  ccRecipients?: EmailAddress[];
  bccRecipients?: EmailAddress[];
  replyTo?: EmailAddress[];
  isReadReceiptRequested?: boolean;
}

const WELL_KNOWN: readonly { name: string; displayName: string; hidden?: boolean }[] = [
  { name: 'archive', displayName: 'Archive' },
  { name: 'conversationhistory', displayName: 'Conversation History' },
  { name: 'deleteditems', displayName: 'Deleted Items' },
  { name: 'drafts', displayName: 'Drafts' },
  { name: 'inbox', displayName: 'Inbox' },
  { name: 'junkemail', displayName: 'Junk Email' },
  { name: 'outbox', displayName: 'Outbox' },
  { name: 'sentitems', displayName: 'Sent Items' },
  { name: 'scheduled', displayName: 'Scheduled', hidden: true },
  { name: 'syncissues', displayName: 'Sync Issues', hidden: true },
];
const CUSTOM_FOLDERS = [
  'Projects',
  'Receipts',
  'Travel',
  'Team',
  'Newsletters',
  'Clients',
  'Hiring',
  'Legal',
];

export class StoreError extends Error {
  constructor(
    readonly code: 'MailboxExists' | 'InvalidAddress' | 'FolderNotFound',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Every mailbox of the emulator, in memory. All writes go through here so that each one bumps the mailbox
 * sequence, appends to the affected folders' change logs (delta) and is announced to subscriptions.
 */
@Injectable()
export class MailboxStore {
  private readonly byNo = new Map<number, Mailbox>();
  private readonly byAddress = new Map<string, Mailbox>();
  private readonly byUserId = new Map<string, Mailbox>();
  private readonly listeners = new Set<ChangeListener>();
  /** never reset, so ids from before a reset never resolve to new mailboxes */
  private nextNo = 1;

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(): void {
    this.byNo.clear();
    this.byAddress.clear();
    this.byUserId.clear();
  }

  list(): Mailbox[] {
    return [...this.byNo.values()];
  }

  totalMessages(): number {
    let n = 0;
    for (const m of this.byNo.values()) n += m.messageCount;
    return n;
  }

  findByAddress(address: string): Mailbox | undefined {
    return this.byAddress.get(address.trim().toLowerCase());
  }

  findByUserId(userId: string): Mailbox | undefined {
    return this.byUserId.get(userId.toLowerCase());
  }

  /** `users/{id|userPrincipalName}` */
  findUser(idOrUpn: string): Mailbox | undefined {
    return this.findByUserId(idOrUpn) ?? this.findByAddress(idOrUpn);
  }

  createMailbox(input: CreateMailboxInput): Mailbox {
    const address = input.address.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      throw new StoreError('InvalidAddress', `"${input.address}" is not an email address`);
    }
    if (this.byAddress.has(address))
      throw new StoreError('MailboxExists', `mailbox ${address} already exists`);
    const no = this.nextNo++;
    const seed = input.seed?.seed ?? hashSeed(address);
    const mailbox = new Mailbox(
      no,
      address,
      input.displayName ?? defaultDisplayName(address),
      input.password,
      guidFrom(`user:${address}`),
      guidFrom(`tenant:${address.split('@')[1] ?? ''}`),
      seed,
    );
    for (const wk of WELL_KNOWN) {
      const folder = this.addFolder(mailbox, mailbox.root, wk.displayName, wk.name);
      folder.isHidden = wk.hidden ?? false;
    }
    this.byNo.set(no, mailbox);
    this.byAddress.set(address, mailbox);
    this.byUserId.set(mailbox.userId, mailbox);
    if (input.seed) this.seed(mailbox, input.seed);
    return mailbox;
  }

  private addFolder(
    mailbox: Mailbox,
    parent: FolderRecord,
    displayName: string,
    wellKnown: string | null,
  ): FolderRecord {
    const folder = new FolderRecord(mailbox, mailbox.nextFolderSerial++, displayName, parent, wellKnown);
    mailbox.folders.set(folder.serial, folder);
    if (wellKnown) mailbox.wellKnown.set(wellKnown, folder);
    parent.children.push(folder);
    return folder;
  }

  createFolder(parent: FolderRecord, displayName: string): FolderRecord {
    return this.addFolder(parent.mailbox, parent, displayName, null);
  }

  /** deterministic realistic mail: the same seed gives the same mailbox, message for message */
  private seed(mailbox: Mailbox, options: SeedOptions): void {
    const customCount = Math.max(0, Math.min(options.folders ?? 3, CUSTOM_FOLDERS.length));
    const custom: FolderRecord[] = [];
    for (let i = 0; i < customCount; i++) {
      const name = CUSTOM_FOLDERS[i];
      // the first custom folder is nested under the inbox, the second under the first: nesting is exercised
      const parent = i === 0 ? mailbox.wellKnown.get('inbox')! : i === 1 ? custom[0] : mailbox.root;
      custom.push(this.addFolder(mailbox, parent, i === 1 ? '2026' : name, null));
    }
    const owner = { address: mailbox.address, displayName: mailbox.displayName, seed: mailbox.seed };
    const shares = SEED_FOLDER_SHARES.map((s) => ({
      folder: mailbox.wellKnown.get(s.folder)!,
      upTo: s.upTo,
    }));
    const last = SEED_FOLDER_SHARES[SEED_FOLDER_SHARES.length - 1].upTo;
    const now = Date.now();
    for (let i = 0; i < options.messages; i++) {
      const serial = mailbox.messages.length;
      const st = seedState(owner, serial);
      let folder: FolderRecord | undefined = shares.find((s) => st.slot < s.upTo)?.folder;
      if (!folder) {
        folder = custom.length
          ? (custom[Math.floor(((st.slot - last) / (1 - last)) * custom.length)] ?? custom[0])
          : mailbox.wellKnown.get('inbox')!;
      }
      const msg = new MessageRecord(
        mailbox,
        serial,
        folder,
        st.receivedAt,
        Math.min(now, st.receivedAt),
        st.isRead,
        st.flag,
        null,
      );
      mailbox.messages.push(msg);
      mailbox.messageCount++;
      this.enter(msg, folder);
    }
  }

  resolveFolder(mailbox: Mailbox, idOrName: string): FolderRecord | undefined {
    const wk = mailbox.wellKnown.get(idOrName.toLowerCase());
    if (wk) return wk;
    const d = decodeId(idOrName);
    if (!d || d.kind !== IdKind.Folder || d.mailboxNo !== mailbox.no) return undefined;
    return mailbox.folders.get(d.serial);
  }

  folderPath(folder: FolderRecord): string {
    const parts: string[] = [];
    for (let f: FolderRecord | null = folder; f && f.parent; f = f.parent) parts.unshift(f.displayName);
    return parts.join('/');
  }

  /** a message by either id form; a regular id from before a move no longer resolves, as in Outlook */
  getMessage(mailbox: Mailbox, id: string): MessageRecord | undefined {
    const d = decodeId(id);
    if (!d || d.mailboxNo !== mailbox.no) return undefined;
    const msg = mailbox.messages[d.serial];
    if (!msg || msg.deleted) return undefined;
    if (d.kind === IdKind.ImmutableMessage) return msg;
    if (d.kind === IdKind.Message && d.extra === (msg.moveCount & 0xffff)) return msg;
    return undefined;
  }

  content(msg: MessageRecord): MessageContent {
    if (msg.content) return msg.content;
    const m = msg.mailbox;
    return seededContent({ address: m.address, displayName: m.displayName, seed: m.seed }, msg.serial);
  }

  attachments(msg: MessageRecord): AttachmentContent[] {
    if (msg.content) return msg.content.attachments;
    const c = this.content(msg);
    if (!c.hasAttachments) return [];
    const m = msg.mailbox;
    return [seededAttachment({ address: m.address, displayName: m.displayName, seed: m.seed }, msg.serial)];
  }

  createMessage(folder: FolderRecord, input: NewMessageInput): MessageRecord {
    const mailbox = folder.mailbox;
    const now = Date.now();
    const parsed = input.receivedDateTime ? Date.parse(input.receivedDateTime) : now;
    const received = Number.isFinite(parsed) ? parsed : now;
    const sent = input.sentDateTime ? Date.parse(input.sentDateTime) : received;
    const from = input.from ?? { name: mailbox.displayName, address: mailbox.address };
    // every message owns its attachments, keyed 0..n-1 (a copy made for a recipient is keyed afresh)
    const attachments = (input.attachments ?? []).map((a, key) => ({ ...a, key }));
    const serial = mailbox.messages.length;
    const bodyContentType = input.body?.contentType ?? 'html';
    const body = input.body?.content ?? '';
    const text = bodyContentType === 'html' ? htmlToText(body) : body;
    const content: MessageContent = {
      subject: input.subject ?? '',
      bodyContentType,
      body,
      text,
      preview: bodyPreview(text),
      from,
      sender: from,
      toRecipients: input.toRecipients ?? [],
      ccRecipients: input.ccRecipients ?? [],
      bccRecipients: input.bccRecipients ?? [],
      replyTo: input.replyTo ?? [],
      internetMessageId:
        input.internetMessageId ??
        `<${mailbox.no}.${serial}.${now.toString(36)}@${mailbox.address.split('@')[1]}>`,
      conversationId:
        input.conversationId ?? `AAQkAG${Buffer.from(`${mailbox.no}:c${serial}`).toString('base64url')}=`,
      conversationIndex: input.conversationIndex ?? Buffer.from(`${now}:${serial}`).toString('base64'),
      importance: input.importance ?? 'normal',
      categories: input.categories ?? [],
      isDraft: input.isDraft ?? false,
      isReadReceiptRequested: input.isReadReceiptRequested ?? false,
      inferenceClassification: input.inferenceClassification ?? 'focused',
      sentAt: Number.isFinite(sent) ? sent : received,
      hasAttachments: attachments.some((a) => !a.isInline),
      attachments,
    };
    const msg = new MessageRecord(
      mailbox,
      serial,
      folder,
      received,
      now,
      input.isRead ?? false,
      flagNumber(input.flagStatus),
      content,
    );
    mailbox.messages.push(msg);
    mailbox.messageCount++;
    this.enter(msg, folder);
    this.emit({ mailbox, kind: 'created', message: msg, folder, id: msg.id });
    return msg;
  }

  updateMessage(msg: MessageRecord, patch: MessagePatch): MessageRecord {
    const folder = msg.folder;
    if (patch.isRead !== undefined && patch.isRead !== msg.isRead) {
      folder.unreadCount += patch.isRead ? -1 : 1;
      msg.isRead = patch.isRead;
    }
    if (patch.flag !== undefined) msg.flag = patch.flag;
    const contentKeys: (keyof MessagePatch)[] = [
      'subject',
      'body',
      'importance',
      'categories',
      'inferenceClassification',
      'toRecipients',
      'ccRecipients',
      'bccRecipients',
      'replyTo',
      'isReadReceiptRequested',
    ];
    if (contentKeys.some((k) => patch[k] !== undefined)) {
      const c = this.ownContent(msg);
      if (patch.subject !== undefined) c.subject = patch.subject;
      if (patch.body !== undefined) {
        c.body = patch.body.content;
        c.bodyContentType = patch.body.contentType;
        c.text = patch.body.contentType === 'html' ? htmlToText(c.body) : c.body;
        c.preview = bodyPreview(c.text);
      }
      if (patch.importance !== undefined) c.importance = patch.importance;
      if (patch.categories !== undefined) c.categories = patch.categories;
      if (patch.inferenceClassification !== undefined)
        c.inferenceClassification = patch.inferenceClassification;
      if (patch.toRecipients !== undefined) c.toRecipients = patch.toRecipients;
      if (patch.ccRecipients !== undefined) c.ccRecipients = patch.ccRecipients;
      if (patch.bccRecipients !== undefined) c.bccRecipients = patch.bccRecipients;
      if (patch.replyTo !== undefined) c.replyTo = patch.replyTo;
      if (patch.isReadReceiptRequested !== undefined) c.isReadReceiptRequested = patch.isReadReceiptRequested;
      msg.content = c;
    }
    this.changed(msg);
    return msg;
  }

  /** a file attachment is added (to a draft, typically): an update of the message */
  addAttachment(msg: MessageRecord, attachment: AttachmentContent): AttachmentContent {
    const c = this.ownContent(msg);
    const key = c.attachments.reduce((max, a, i) => Math.max(max, (a.key ?? i) + 1), 0);
    const added = { ...attachment, key };
    c.attachments = [...c.attachments, added];
    c.hasAttachments = c.attachments.some((a) => !a.isInline);
    msg.content = c;
    this.changed(msg);
    return added;
  }

  /** false when the message has no attachment with that key */
  removeAttachment(msg: MessageRecord, key: number): boolean {
    const c = this.ownContent(msg);
    const kept = c.attachments.filter((a, i) => (a.key ?? i) !== key);
    if (kept.length === c.attachments.length) return false;
    c.attachments = kept;
    c.hasAttachments = kept.some((a) => !a.isInline);
    msg.content = c;
    this.changed(msg);
    return true;
  }

  /**
   * A draft is sent: it stops being a draft, takes the sending time, and moves to Sent Items through the
   * regular move (its immutable id stays, its regular id changes, as in Outlook).
   */
  markSent(msg: MessageRecord, sentItems: FolderRecord, at = Date.now()): MessageRecord {
    const c = this.ownContent(msg);
    c.isDraft = false;
    c.sentAt = at;
    msg.content = c;
    msg.receivedAt = at;
    msg.folder.sorted = null;
    if (!msg.isRead) {
      msg.folder.unreadCount--;
      msg.isRead = true;
    }
    if (msg.folder === sentItems) return this.changed(msg);
    return this.moveMessage(msg, sentItems);
  }

  /** a private, mutable copy of the message's content (seeded content and attachments materialised) */
  private ownContent(msg: MessageRecord): MessageContent {
    const c = { ...this.content(msg) };
    if (!msg.content && c.hasAttachments) c.attachments = this.attachments(msg);
    return c;
  }

  /** an update in place: a change-log entry in its folder and an `updated` notification */
  private changed(msg: MessageRecord): MessageRecord {
    const folder = msg.folder;
    this.touch(msg);
    folder.log.stale++;
    folder.log.append(msg.changeSeq, msg);
    folder.log.compact(folder);
    this.emit({ mailbox: msg.mailbox, kind: 'updated', message: msg, folder, id: msg.id });
    return msg;
  }

  moveMessage(msg: MessageRecord, dest: FolderRecord): MessageRecord {
    const source = msg.folder;
    if (source === dest) return msg;
    const oldId = msg.id;
    this.leave(msg, source, new Removal(msg, oldId, 'deleted'));
    msg.moveCount++;
    msg.folder = dest;
    this.enter(msg, dest);
    this.emit({ mailbox: msg.mailbox, kind: 'deleted', message: msg, folder: source, id: oldId });
    this.emit({ mailbox: msg.mailbox, kind: 'created', message: msg, folder: dest, id: msg.id });
    return msg;
  }

  deleteMessage(msg: MessageRecord): void {
    const folder = msg.folder;
    const id = msg.id;
    this.leave(msg, folder, new Removal(msg, id, 'deleted'));
    msg.deleted = true;
    msg.mailbox.messages[msg.serial] = undefined;
    msg.mailbox.messageCount--;
    this.emit({ mailbox: msg.mailbox, kind: 'deleted', message: msg, folder, id });
  }

  /** the message joins a folder: counts, list order and a change-log entry */
  private enter(msg: MessageRecord, folder: FolderRecord): void {
    folder.messages.add(msg);
    if (!msg.isRead) folder.unreadCount++;
    folder.sorted = null;
    this.touch(msg);
    folder.log.append(msg.changeSeq, msg);
  }

  private leave(msg: MessageRecord, folder: FolderRecord, removal: Removal): void {
    folder.messages.delete(msg);
    if (!msg.isRead) folder.unreadCount--;
    folder.sorted = null;
    folder.log.stale++;
    const seq = ++msg.mailbox.seq;
    folder.log.append(seq, removal);
    msg.changeSeq = seq;
  }

  private touch(msg: MessageRecord): void {
    msg.changeSeq = ++msg.mailbox.seq;
    msg.version++;
    msg.modifiedAt = Date.now();
  }

  private emit(change: MailboxChange): void {
    for (const l of this.listeners) l(change);
  }

  /** newest first, as Graph lists a folder */
  sortedMessages(folder: FolderRecord): MessageRecord[] {
    if (!folder.sorted) {
      folder.sorted = [...folder.messages].sort((a, b) => b.receivedAt - a.receivedAt || b.serial - a.serial);
    }
    return folder.sorted;
  }

  /** depth-first, parents before children */
  allFolders(mailbox: Mailbox): FolderRecord[] {
    const out: FolderRecord[] = [];
    const walk = (f: FolderRecord) => {
      for (const c of f.children) {
        out.push(c);
        walk(c);
      }
    };
    walk(mailbox.root);
    return out;
  }
}

export function flagNumber(status: string | undefined): number {
  return status === 'flagged' ? 1 : status === 'complete' ? 2 : 0;
}

function defaultDisplayName(address: string): string {
  const local = address.split('@')[0] ?? address;
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join(' ');
}
