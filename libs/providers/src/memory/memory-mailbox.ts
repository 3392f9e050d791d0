import type { RecipientInput } from '@email-core/database';
import type { FlagStatus } from '../port';

/**
 * One mailbox held in memory: a folder tree, messages (each in one folder, with a change key that changes on
 * every write), and a change log per folder from which the adapter answers "what changed since this cursor".
 * It knows nothing of any provider: the in-memory adapter serves it through the provider port, and tests change
 * it "elsewhere" (new mail, another client's edits, moves, deletions) through the same methods.
 */

export type MemoryAddress = RecipientInput;

export interface MemoryAttachment {
  id: string;
  name: string;
  contentType: string;
  content: Buffer;
  isInline: boolean;
}

export interface MemoryFolder {
  id: string;
  parentId: string | null;
  displayName: string;
  /** inbox, sentitems, drafts, deleteditems, archive, ... (null for a user's folder) */
  wellKnownName: string | null;
}

export interface MemoryMessage {
  id: string;
  folderId: string;
  changeKey: string;
  subject: string;
  from: MemoryAddress | null;
  toRecipients: MemoryAddress[];
  ccRecipients: MemoryAddress[];
  body: { contentType: 'html' | 'text'; content: string };
  receivedAt: string;
  sentAt: string | null;
  isRead: boolean;
  flagStatus: FlagStatus;
  importance: 'low' | 'normal' | 'high';
  conversationId: string | null;
  internetMessageId: string | null;
  attachments: MemoryAttachment[];
  /** a draft (a reply or forward being written): only a draft can be sent */
  isDraft: boolean;
}

/** What a test gives to put a message in: everything but the folder is optional. */
export type NewMemoryMessage = Partial<Omit<MemoryMessage, 'id' | 'changeKey' | 'folderId'>> & {
  id?: string;
};

export type MessagePatch = Partial<
  Pick<MemoryMessage, 'subject' | 'isRead' | 'flagStatus' | 'importance' | 'body' | 'isDraft' | 'sentAt'>
>;

/** One entry of a folder's log: the message changed in (or left) this folder at `version`. */
interface LogEntry {
  version: number;
  id: string;
}

/** What happened, for the watcher: the message, the folder it is (or was) in, and the kind of change. */
export interface MailboxChange {
  kind: 'created' | 'updated' | 'deleted';
  messageId: string;
  folderId: string;
}

export class MemoryMailboxError extends Error {
  constructor(
    readonly code: 'MESSAGE_NOT_FOUND' | 'FOLDER_NOT_FOUND' | 'FOLDER_EXISTS' | 'MESSAGE_EXISTS',
    message: string,
  ) {
    super(message);
    this.name = 'MemoryMailboxError';
  }
}

export class MemoryMailbox {
  private readonly folderMap = new Map<string, MemoryFolder>();
  private readonly messageMap = new Map<string, MemoryMessage>();
  private readonly logs = new Map<string, LogEntry[]>();
  /** per folder: cursors of an older generation are lost (the test expired them) */
  private readonly generations = new Map<string, number>();
  private readonly listeners = new Set<(changes: MailboxChange[]) => void>();
  private version = 0;
  private ids = 0;

  constructor(
    /** the mailbox's address (the owner in From of sent mail) */
    readonly address: string,
    /** prefix of generated ids, so two mailboxes never share one */
    readonly idPrefix = `mem-${address.split('@')[0]}`,
  ) {}

  // ---- folders ----

  addFolder(folder: {
    id?: string;
    displayName: string;
    parentId?: string | null;
    wellKnownName?: string | null;
  }): MemoryFolder {
    const id = folder.id ?? this.newId('folder');
    if (this.folderMap.has(id)) throw new MemoryMailboxError('FOLDER_EXISTS', `folder ${id} exists`);
    const parentId = folder.parentId ?? null;
    if (parentId !== null && !this.folderMap.has(parentId)) {
      throw new MemoryMailboxError('FOLDER_NOT_FOUND', `no parent folder ${parentId}`);
    }
    const created: MemoryFolder = {
      id,
      parentId,
      displayName: folder.displayName,
      wellKnownName: folder.wellKnownName ?? null,
    };
    this.folderMap.set(id, created);
    this.logs.set(id, []);
    this.generations.set(id, 1);
    return { ...created };
  }

  /** Removes a folder, its subfolders and every message in them. */
  removeFolder(id: string): void {
    this.folder(id);
    for (const child of [...this.folderMap.values()].filter((f) => f.parentId === id)) {
      this.removeFolder(child.id);
    }
    for (const m of this.inFolder(id)) this.messageMap.delete(m.id);
    this.folderMap.delete(id);
    this.logs.delete(id);
    this.generations.delete(id);
  }

  folders(): MemoryFolder[] {
    return [...this.folderMap.values()].map((f) => ({ ...f }));
  }

  folder(id: string): MemoryFolder {
    const f = this.folderMap.get(id);
    if (!f) throw new MemoryMailboxError('FOLDER_NOT_FOUND', `no folder ${id}`);
    return f;
  }

  /** a folder by id or well-known name, or undefined */
  findFolder(idOrWellKnownName: string): MemoryFolder | undefined {
    const byId = this.folderMap.get(idOrWellKnownName);
    if (byId) return { ...byId };
    const wk = idOrWellKnownName.toLowerCase();
    const found = [...this.folderMap.values()].find((f) => f.wellKnownName === wk);
    return found ? { ...found } : undefined;
  }

  counts(folderId: string): { total: number; unread: number } {
    const inside = this.inFolder(folderId);
    return { total: inside.length, unread: inside.filter((m) => !m.isRead).length };
  }

  // ---- messages ----

  /** every message of a folder, by id */
  inFolder(folderId: string): MemoryMessage[] {
    return [...this.messageMap.values()]
      .filter((m) => m.folderId === folderId)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(copy);
  }

  messages(): MemoryMessage[] {
    return [...this.messageMap.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy);
  }

  find(id: string): MemoryMessage | undefined {
    const m = this.messageMap.get(id);
    return m ? copy(m) : undefined;
  }

  get(id: string): MemoryMessage {
    return copy(this.message(id));
  }

  add(folderId: string, input: NewMemoryMessage = {}): MemoryMessage {
    this.folder(folderId);
    const id = input.id ?? this.newId('msg');
    if (this.messageMap.has(id)) throw new MemoryMailboxError('MESSAGE_EXISTS', `message ${id} exists`);
    const n = this.ids;
    const receivedAt = input.receivedAt ?? new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
    const message: MemoryMessage = {
      id,
      folderId,
      changeKey: '',
      subject: input.subject ?? `Subject ${n}`,
      from:
        input.from === undefined
          ? { name: `Sender ${n % 5}`, address: `sender${n % 5}@memory.example` }
          : input.from,
      toRecipients: input.toRecipients ?? [{ name: this.address, address: this.address }],
      ccRecipients: input.ccRecipients ?? [],
      body: input.body ?? { contentType: 'html', content: `<p>Message ${n} kept in memory</p>` },
      receivedAt,
      sentAt: input.sentAt === undefined ? receivedAt : input.sentAt,
      isRead: input.isRead ?? false,
      flagStatus: input.flagStatus ?? 'notFlagged',
      importance: input.importance ?? 'normal',
      conversationId: input.conversationId === undefined ? `conv-${id}` : input.conversationId,
      internetMessageId:
        input.internetMessageId === undefined ? `<${id}@memory.example>` : input.internetMessageId,
      attachments: (input.attachments ?? []).map((a) => ({ ...a })),
      isDraft: input.isDraft ?? false,
    };
    this.messageMap.set(id, message);
    this.touch(message);
    this.emit([{ kind: 'created', messageId: id, folderId }]);
    return copy(message);
  }

  update(id: string, patch: MessagePatch): MemoryMessage {
    const m = this.message(id);
    Object.assign(m, patch);
    this.touch(m);
    this.emit([{ kind: 'updated', messageId: id, folderId: m.folderId }]);
    return copy(m);
  }

  /** Moves a message to another folder; it keeps its id (ids are immutable here, as the mirror expects). */
  move(id: string, destinationId: string): MemoryMessage {
    const m = this.message(id);
    this.folder(destinationId);
    if (m.folderId === destinationId) return copy(m);
    const from = m.folderId;
    this.record(from, id);
    m.folderId = destinationId;
    this.touch(m);
    this.emit([
      { kind: 'deleted', messageId: id, folderId: from },
      { kind: 'created', messageId: id, folderId: destinationId },
    ]);
    return copy(m);
  }

  delete(id: string): void {
    const m = this.message(id);
    this.messageMap.delete(id);
    this.record(m.folderId, id);
    this.emit([{ kind: 'deleted', messageId: id, folderId: m.folderId }]);
  }

  attachment(messageId: string, attachmentId: string): MemoryAttachment | undefined {
    const a = this.message(messageId).attachments.find((x) => x.id === attachmentId);
    return a ? { ...a } : undefined;
  }

  addAttachment(messageId: string, attachment: Omit<MemoryAttachment, 'id'>): MemoryAttachment {
    const m = this.message(messageId);
    const added = { ...attachment, id: this.newId('att') };
    m.attachments.push(added);
    this.touch(m);
    this.emit([{ kind: 'updated', messageId, folderId: m.folderId }]);
    return { ...added };
  }

  // ---- the change log, for the adapter ----

  /** the mailbox's version: every write raises it */
  get currentVersion(): number {
    return this.version;
  }

  generation(folderId: string): number {
    return this.generations.get(folderId) ?? 0;
  }

  /** Forgets the folder's change tracking (every folder's when none is named): its cursors are lost. */
  expireCursors(folderId?: string): void {
    for (const id of folderId === undefined ? [...this.folderMap.keys()] : [folderId]) {
      this.folder(id);
      this.generations.set(id, this.generation(id) + 1);
    }
  }

  /** ids that changed in (or left) the folder in (since, upto], each once, in the order of their last change */
  changedSince(folderId: string, since: number, upto: number): string[] {
    const last = new Map<string, number>();
    for (const e of this.logs.get(folderId) ?? []) {
      if (e.version > since && e.version <= upto) last.set(e.id, e.version);
    }
    return [...last].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  // ---- the watcher ----

  /** Calls `listener` after every change, in-process; answers a function that stops it. */
  onChange(listener: (changes: MailboxChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(changes: MailboxChange[]): void {
    for (const l of [...this.listeners]) l(changes);
  }

  private message(id: string): MemoryMessage {
    const m = this.messageMap.get(id);
    if (!m) throw new MemoryMailboxError('MESSAGE_NOT_FOUND', `no message ${id}`);
    return m;
  }

  private touch(m: MemoryMessage): void {
    this.record(m.folderId, m.id);
    m.changeKey = `ck-${this.version}`;
  }

  private record(folderId: string, id: string): void {
    this.version += 1;
    this.logs.get(folderId)?.push({ version: this.version, id });
  }

  private newId(kind: string): string {
    this.ids += 1;
    return `${this.idPrefix}-${kind}-${String(this.ids).padStart(5, '0')}`;
  }
}

const copy = (m: MemoryMessage): MemoryMessage => ({
  ...m,
  from: m.from ? { ...m.from } : null,
  toRecipients: m.toRecipients.map((r) => ({ ...r })),
  ccRecipients: m.ccRecipients.map((r) => ({ ...r })),
  body: { ...m.body },
  attachments: m.attachments.map((a) => ({ ...a })),
});
