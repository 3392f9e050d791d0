import { encodeId, IdKind } from './ids';

export interface EmailAddress {
  name: string;
  address: string;
}

export type Importance = 'low' | 'normal' | 'high';
export type FlagStatus = 'notFlagged' | 'flagged' | 'complete';
export const FLAG_STATUSES: readonly FlagStatus[] = ['notFlagged', 'flagged', 'complete'];

export interface AttachmentContent {
  name: string;
  contentType: string;
  /** base64 */
  contentBytes: string;
  size: number;
  isInline: boolean;
  /** Graph's `contentId`: what a `cid:` reference in the HTML body names (an inline image); none when absent */
  contentId?: string;
  /** stable within its message (the attachment id derives from it); seeded attachments have none */
  key?: number;
}

/**
 * The content of a message. Seeded messages have none stored: it is regenerated from the mailbox seed and
 * the message serial whenever it is needed, which is what lets the emulator hold a million messages. A message
 * gets stored content when it is created at runtime or when a PATCH changes one of these fields.
 */
export interface MessageContent {
  subject: string;
  bodyContentType: 'html' | 'text';
  body: string;
  /** the body as plain text, when known up front (seeded mail); otherwise derived from the HTML */
  text?: string;
  /** bodyPreview, when known up front */
  preview?: string;
  from: EmailAddress;
  sender: EmailAddress;
  toRecipients: EmailAddress[];
  ccRecipients: EmailAddress[];
  bccRecipients: EmailAddress[];
  replyTo: EmailAddress[];
  internetMessageId: string;
  conversationId: string;
  conversationIndex: string;
  importance: Importance;
  categories: string[];
  isDraft: boolean;
  isReadReceiptRequested: boolean;
  inferenceClassification: 'focused' | 'other';
  sentAt: number;
  /** seeded messages only know whether they have attachments; runtime ones carry them */
  hasAttachments: boolean;
  attachments: AttachmentContent[];
}

export class MessageRecord {
  constructor(
    readonly mailbox: Mailbox,
    readonly serial: number,
    public folder: FolderRecord,
    public receivedAt: number,
    public createdAt: number,
    public isRead: boolean,
    public flag: number,
    public content: MessageContent | null,
  ) {
    this.modifiedAt = createdAt;
  }
  moveCount = 0;
  /** mailbox-wide sequence number of the last change (create, update or move) */
  changeSeq = 0;
  /** bumped on every change; the changeKey and @odata.etag derive from it */
  version = 1;
  modifiedAt: number;
  deleted = false;

  get id(): string {
    return encodeId(IdKind.Message, this.mailbox.no, this.serial, this.moveCount);
  }
  get immutableId(): string {
    return encodeId(IdKind.ImmutableMessage, this.mailbox.no, this.serial);
  }
  idFor(immutable: boolean): string {
    return immutable ? this.immutableId : this.id;
  }
  get changeKey(): string {
    return `CQAAABYAAAD${this.mailbox.no.toString(36)}${this.serial.toString(36).padStart(5, '0')}${this.version.toString(36).padStart(3, '0')}`;
  }
  get etag(): string {
    return `W/"${this.changeKey}"`;
  }
}

export class FolderRecord {
  readonly children: FolderRecord[] = [];
  readonly messages = new Set<MessageRecord>();
  unreadCount = 0;
  /** newest-first cache for listing, dropped on any change to membership or order */
  sorted: MessageRecord[] | null = null;
  readonly log: FolderLog = new FolderLog();
  readonly id: string;

  constructor(
    readonly mailbox: Mailbox,
    readonly serial: number,
    public displayName: string,
    public parent: FolderRecord | null,
    readonly wellKnownName: string | null,
    public isHidden = false,
  ) {
    this.id = encodeId(IdKind.Folder, mailbox.no, serial);
  }
}

export class Mailbox {
  readonly messages: (MessageRecord | undefined)[] = [];
  readonly folders = new Map<number, FolderRecord>();
  readonly wellKnown = new Map<string, FolderRecord>();
  messageCount = 0;
  seq = 0;
  /** delta tokens from an older generation answer 410 SyncStateNotFound (the expire-delta-tokens fault) */
  syncGeneration = 1;
  nextFolderSerial = 1;
  readonly root: FolderRecord;

  constructor(
    readonly no: number,
    readonly address: string,
    public displayName: string,
    public password: string | undefined,
    readonly userId: string,
    readonly tenantId: string,
    readonly seed: number,
  ) {
    this.root = new FolderRecord(this, 0, 'Top of Information Store', null, 'msgfolderroot', false);
    this.folders.set(0, this.root);
    this.wellKnown.set('msgfolderroot', this.root);
  }
}

/**
 * A folder's change log, the heart of delta. Every change to a message while it is in the folder appends
 * (seq, message); a message leaving the folder appends a removal. Entries are in seq order, so a delta round
 * over (since, upto] is a binary search plus a scan. An entry whose message has changed again since is stale
 * and skipped: the later entry stands for it.
 */
export class FolderLog {
  seqs: number[] = [];
  items: (MessageRecord | Removal)[] = [];
  stale = 0;

  append(seq: number, item: MessageRecord | Removal): void {
    this.seqs.push(seq);
    this.items.push(item);
  }

  /** index of the first entry with seq > after */
  firstAfter(after: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** drops stale message entries once they outnumber live ones; removals are kept so old tokens stay valid */
  compact(folder: FolderRecord): void {
    if (this.stale < 1024 || this.stale < this.seqs.length / 2) return;
    const seqs: number[] = [];
    const items: (MessageRecord | Removal)[] = [];
    for (let i = 0; i < this.seqs.length; i++) {
      const item = this.items[i];
      const seq = this.seqs[i];
      if (item instanceof Removal || (item.folder === folder && !item.deleted && item.changeSeq === seq)) {
        seqs.push(seq);
        items.push(item);
      }
    }
    this.seqs = seqs;
    this.items = items;
    this.stale = 0;
  }
}

export class Removal {
  constructor(
    readonly message: MessageRecord,
    /** the id the message had in this folder, before the move changed it */
    readonly id: string,
    readonly reason: 'deleted' | 'changed',
  ) {}
}
