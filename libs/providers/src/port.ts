import type { Readable } from 'node:stream';
import type { FolderInput, MessageInput, SealedTokenColumns } from '@email-core/database';

/**
 * The provider port: what the mirror and the use cases need of a mailbox, whoever hosts it (Outlook through
 * Microsoft Graph today, IMAP/SMTP tomorrow). Everything here is provider-neutral: ids are the provider's own
 * opaque strings (the mirror's `remote_id`), a cursor is an opaque string the adapter alone understands, and
 * errors are the classes below. No Graph (or IMAP) type passes through it.
 */

/** The `mail_accounts.provider` value an adapter serves ('outlook' today). */
export type ProviderName = string;

/** A folder of the mailbox, with the provider's own counts. Top-level folders have `parentFolderId: null`. */
export interface RemoteFolder extends FolderInput {
  totalItemCount: number;
  unreadItemCount: number;
}

/** A message as the mirror stores it, plus the folder the provider files it in. */
export type RemoteMessage = MessageInput & { folderId: string };

/**
 * Where to read a folder's changes from: from scratch (every message of the folder, then a cursor), or from a
 * stored cursor (a Graph nextLink/deltaLink; a UIDVALIDITY/MODSEQ pair for IMAP), replayed verbatim.
 */
export type ChangesFrom = { folderId: string } | { cursor: string };

/**
 * One page of a folder's changes. Exactly one of `nextCursor` (more pages follow: read them from it) and
 * `cursor` (caught up: store it and read from it next time) is set.
 */
export interface ChangesPage {
  /** messages added to or changed in the folder */
  messages: RemoteMessage[];
  /** ids the provider reports removed from this folder (a moved message is removed from its old folder) */
  removedIds: string[];
  nextCursor?: string;
  cursor?: string;
}

/** A message's attachment as listed: never its content. */
export interface RemoteAttachmentInfo {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  /**
   * the part's Content-ID without its angle brackets, when it has one: what a `cid:` reference in the HTML body
   * names (an inline image)
   */
  contentId?: string;
  kind: 'file' | 'item' | 'reference' | 'unknown';
}

/** An attachment's bytes, streamed: read `body` once; destroying it ends the download. */
export interface RemoteAttachmentContent {
  contentType: string | null;
  contentLength: number | null;
  body: Readable;
}

/** The read/flag state a message can be set to. */
export type FlagStatus = MessageInput['flagStatus'];

export interface OutgoingRecipient {
  address: string;
  name?: string;
}

/** Bytes read a range at a time (a large attachment kept in chunks in Postgres), never whole. */
export interface AttachmentSource {
  size: number;
  /** the bytes [start, end) */
  read(start: number, end: number): Promise<Buffer>;
}

/** A file sent with a mail: its bytes, or (a large one, up to 150 MB) a source read a range at a time. */
export interface OutgoingAttachment {
  name: string;
  contentType: string;
  content: Buffer | AttachmentSource;
}

/** An attachment's size in bytes. */
export function attachmentSize(a: OutgoingAttachment): number {
  return Buffer.isBuffer(a.content) ? a.content.length : a.content.size;
}

/** A mail's body: HTML (sanitized by the API) or plain text. */
export interface OutgoingBody {
  contentType: 'text' | 'html';
  content: string;
}

/**
 * A reply (all): `body` (HTML or text) is the whole body as the user wrote it, the quote of the original included
 * (the dashboard's editor quotes it), and the provider adds nothing; without `body`, `comment` (text) goes on top
 * of the provider's own quote (Graph's; the IMAP adapter's). Bcc recipients are added to the ones it goes to.
 */
export interface ReplyOptions {
  replyAll: boolean;
  comment: string;
  body?: OutgoingBody;
  bccRecipients?: OutgoingRecipient[];
}

/** A forward's recipients and body (as for a reply); the original's attachments go with it. */
export interface ForwardOptions {
  comment: string;
  toRecipients: OutgoingRecipient[];
  body?: OutgoingBody;
  bccRecipients?: OutgoingRecipient[];
}

export interface OutgoingMail {
  subject: string;
  body: OutgoingBody;
  toRecipients: OutgoingRecipient[];
  ccRecipients: OutgoingRecipient[];
  bccRecipients: OutgoingRecipient[];
  attachments: OutgoingAttachment[];
}

/** A draft as the user wrote it: saving it replaces the whole draft (no attachments yet). */
export interface DraftContent {
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  toRecipients: OutgoingRecipient[];
  ccRecipients: OutgoingRecipient[];
  bccRecipients: OutgoingRecipient[];
}

/** Saving a draft: the draft it replaces, or (a new reply/forward draft) the message it answers. */
export interface SaveDraftOptions {
  /** the draft's id now; a draft no longer there is created anew */
  replaceId?: string;
  /** only when creating: the draft answers this message (threading, and Graph's reply/forward draft) */
  origin?: { messageId: string; kind: 'reply' | 'replyAll' | 'forward' };
}

/** Reading a mailbox: its folder tree, a folder's changes, where a message is now. */
export interface MailboxReader {
  /** every folder of the mailbox, nested ones included, parents before their children */
  listFolderTree(): Promise<RemoteFolder[]>;
  /**
   * The Inbox alone, as `listFolderTree` lists it (a mailbox's first screen, before the tree is read); a provider
   * that cannot name it in one cheap request leaves it out.
   */
  inbox?(): Promise<RemoteFolder>;
  /**
   * One page of a folder's changes, from scratch or from a stored cursor. Raises `CursorLostError` when the
   * cursor is no longer valid (the folder must be read again from scratch) and `ReauthRequiredError` when the
   * account's credentials no longer work.
   */
  changes(from: ChangesFrom, pageSize?: number): Promise<ChangesPage>;
  /**
   * The newest `limit` messages of a folder, newest first (a mailbox's first screen, before its deltas are
   * through); a provider without a cheap way to list them leaves it out.
   */
  newest?(folderId: string, limit: number): Promise<RemoteMessage[]>;
  /** the folder a message is in now, or null when it no longer exists */
  folderOf(messageId: string): Promise<string | null>;
}

/** A message's attachments: the list (metadata only) and one attachment's bytes. */
export interface MailboxAttachments {
  /** a missing message raises `ProviderRefusedError` with status 404 */
  list(messageId: string): Promise<RemoteAttachmentInfo[]>;
  get(messageId: string, attachmentId: string): Promise<RemoteAttachmentInfo>;
  openContent(messageId: string, attachmentId: string): Promise<RemoteAttachmentContent>;
}

/**
 * Acting on a mailbox: every mail action the product offers. A refusal (nothing changed) raises
 * `ProviderRefusedError` (status 404: no such message or folder); a transient failure raises
 * `ProviderUnavailableError`. Ids in and out are the provider's stable ids.
 */
export interface MailboxActions {
  setRead(messageId: string, isRead: boolean): Promise<void>;
  setFlag(messageId: string, flagStatus: FlagStatus): Promise<void>;
  /** moves a message (the destination by id or well-known name); answers the message's id and folder now */
  move(messageId: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }>;
  /**
   * deletes a message. Answers where it is now when the delete only moved it under a new id (IMAP: to Trash, with a
   * new UID), so whoever mirrors it can follow; null when it is gone for good, or still found by its id (Outlook:
   * Deleted Items, where the round's look-up of the removed id finds it)
   */
  delete(messageId: string): Promise<{ id: string; parentFolderId: string | null } | null>;
  /** sends a new mail, keeping a copy in Sent Items */
  sendMail(mail: OutgoingMail): Promise<void>;
  reply(messageId: string, opts: ReplyOptions): Promise<void>;
  forward(messageId: string, opts: ForwardOptions): Promise<void>;
  /** a reply draft's id (for a reply with attachments: draft, attach, send) */
  createReply(messageId: string, opts: ReplyOptions): Promise<string>;
  createForward(messageId: string, opts: ForwardOptions): Promise<string>;
  addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void>;
  sendDraft(draftId: string): Promise<void>;
  /**
   * Saves a draft in Drafts: creates it, or replaces the draft `replaceId` (kept under its id where the provider
   * can update it: Graph's PATCH; IMAP APPENDs the new version and expunges the old one). Answers its id now.
   */
  saveDraft(draft: DraftContent, opts: SaveDraftOptions): Promise<string>;
  /** removes a draft for good (not to Deleted Items/Trash); a draft already gone counts as removed */
  discardDraft(draftId: string): Promise<void>;
  /** a folder's id from an id or a well-known name ('sentitems'); null when there is no such folder */
  folderId(idOrWellKnownName: string): Promise<string | null>;
  /** the ids of a folder's newest messages, at most `count` */
  newestMessageIds(folder: string, count: number): Promise<string[]>;
  /**
   * Optional: one of read, flag, move or delete on many messages in few requests (IMAP: one UID command per folder
   * and up to 500 UIDs). One result per id, as the one-id method above would have ended for it: a refusal of one
   * id (404: no such message) is that id's result, not a failure of the call. A refusal of the whole call (404: a
   * move's destination is missing) and a transient failure are thrown; the call is safe to make again. Without it
   * the ids are acted on one at a time through the methods above (Outlook).
   */
  applyMany?(messageIds: string[], action: ManyIdsAction, signal?: AbortSignal): Promise<ManyIdsResult[]>;
}

/** The actions `applyMany` takes: those of the one-id methods, with their arguments. */
export type ManyIdsAction =
  | { action: 'markRead'; isRead: boolean }
  | { action: 'flag'; flagStatus: FlagStatus }
  | { action: 'move'; destinationId: string }
  | { action: 'delete' };

/**
 * What one id of `applyMany` came to: done (a move's and a delete's `now` as `move`/`delete` answer it), or the
 * refusal the one-id method would have thrown.
 */
export type ManyIdsResult =
  | { id: string; ok: true; now?: { id: string; parentFolderId: string | null } | null }
  | { id: string; ok: false; error: ProviderRefusedError };

/**
 * A channel through which the provider tells us the mailbox changed (a Graph subscription). What arrives through it
 * becomes a `mailbox.poke`.
 */
export interface WatchChannel {
  id: string;
  /** where the channel delivers (a webhook URL; a connection name) */
  deliversTo: string;
  expiresAt: Date;
}

export interface NewWatchChannel {
  /** where to deliver changes */
  deliverTo: string;
  /** where to deliver the channel's own lifecycle events */
  lifecycleTo: string;
  /** a secret the provider echoes with every delivery (never logged; only its hash is stored) */
  secret: string;
  expiresAt: Date;
}

/** The channel's own lifecycle, as the watcher reports it (Graph: lifecycle notifications). */
export type WatchLifecycleEvent =
  /** the channel needs renewing (its credentials or its expiry) or it stops delivering */
  | 'renewalDue'
  /** the provider ended the channel: open another one and catch up */
  | 'ended'
  /** deliveries were lost: catch up */
  | 'missed';

/**
 * How a provider's mailboxes are watched for changes:
 * - `'channels'`: through channels the provider keeps for us (Graph subscriptions). The subscriptions feature opens,
 *   renews and closes them through `MailboxWatch`, keeps them in `graph_subscriptions`, and asks a catch-up round
 *   when it opens one.
 * - `'connection'`: through a connection of our own to the mailbox (IMAP IDLE), held by the provider's watcher in
 *   the consumer, which turns what it hears into pokes (and catches up itself on every connect). Nothing is kept
 *   at the provider, so there is nothing to open, renew, or close after unlinking.
 */
export type WatchKind = 'channels' | 'connection';

/** Watching a mailbox for changes: the channels the provider keeps for it. */
export interface MailboxWatch {
  readonly kind: 'channels';
  /** what one channel watches (Graph: the subscription's resource, the whole mailbox) */
  readonly scope: string;
  list(): Promise<WatchChannel[]>;
  /** raises `WatchLifetimeRejectedError` when the provider refuses the expiry as too far */
  open(request: NewWatchChannel): Promise<WatchChannel>;
  /** null when the provider no longer has it */
  renew(id: string, expiresAt: Date): Promise<WatchChannel | null>;
  /** false when it was already gone */
  close(id: string): Promise<boolean>;
}

/**
 * The watch of a mailbox whose provider watches it over a connection of ours (`WatchKind` 'connection'): the
 * provider's own watcher holds that connection; nothing about it goes through the port.
 */
export interface ConnectionWatch {
  readonly kind: 'connection';
}

/** A mailbox's watch, by its provider's `WatchKind`: channels to keep, or a connection its watcher holds. */
export type MailboxWatching = MailboxWatch | ConnectionWatch;

/** One account's mailbox at its provider: the port every use case talks to. */
export interface Mailbox extends MailboxReader, MailboxActions {
  readonly attachments: MailboxAttachments;
  /** of its provider's `watching` kind */
  readonly watch: MailboxWatching;
}

/**
 * Credentials as the vault seals them into the account row (`mail_accounts`' sealed columns): provider-specific
 * blobs (OAuth tokens for Outlook, a password or app token for IMAP), encrypted and bound to the account.
 */
export type SealedCredentials = SealedTokenColumns;

/** Sealed credentials kept after the account row is gone (an unlinked account's removal row): any may be missing. */
export type KeptCredentials = { [K in keyof SealedCredentials]: SealedCredentials[K] | null };

/**
 * One vault for every provider's sealed credentials. `Secret` is what the provider hands over at linking (an
 * OAuth token set; an IMAP password), `seal` encrypts it for the account row, and `credentialFor` opens it (and
 * refreshes it when the provider's credentials expire) for a request.
 */
export interface CredentialVault<Secret = unknown> {
  seal(accountId: string, secret: Secret): SealedCredentials;
  /** a usable credential for a request of the account (e.g. a bearer token), refreshed when due */
  credentialFor(accountId: string, opts?: { forceRefresh?: boolean }): Promise<string>;
  /** the same from sealed columns kept after the account row is gone (an unlinked account's clean-up) */
  credentialFromSealed(
    accountId: string,
    sealed: KeptCredentials,
    opts?: { forceRefresh?: boolean },
  ): Promise<string>;
  /** drops what this process holds in memory for the account */
  forget(accountId: string): void;
}

/** An account whose row is gone, with the sealed credentials kept for its clean-up (closing its channels). */
export interface UnlinkedAccount {
  accountId: string;
  sealed: KeptCredentials;
}

/** An adapter: one provider's implementation of the port, registered at boot under its provider name. */
export interface MailProvider {
  readonly name: ProviderName;
  /** how its mailboxes are watched: every `Mailbox.watch` and `watchOfUnlinked` of it is of this kind */
  readonly watching: WatchKind;
  /** the account's mailbox; cheap to build (one per use) */
  mailbox(accountId: string): Mailbox;
  /** the watch of an unlinked account, authenticated with the credentials kept for its clean-up */
  watchOfUnlinked(account: UnlinkedAccount): MailboxWatching;
  readonly vault: CredentialVault;
}

// ---- errors: adapters translate their provider's failures into these ----

/** The stored cursor is no longer valid (Graph: 410 SyncStateNotFound): read the folder again from scratch. */
export class CursorLostError extends Error {
  constructor(message = 'the folder cursor is no longer valid') {
    super(message);
    this.name = 'CursorLostError';
  }
}

/** The account's credentials no longer work: only its user can fix it, by linking the mailbox again. */
export class ReauthRequiredError extends Error {
  constructor(
    readonly reason: string,
    /** the provider's own code for it, when it gave one */
    readonly providerCode?: string,
  ) {
    super(`re-authorization required: ${reason}`);
    this.name = 'ReauthRequiredError';
  }
}

/** No credentials are stored for the account (no such account, or it was never linked). */
export class CredentialsNotFoundError extends Error {
  constructor(readonly accountId: string) {
    super(`mail account ${accountId} has no stored credentials`);
    this.name = 'CredentialsNotFoundError';
  }
}

/**
 * The provider refused the request and changed nothing (an HTTP 4xx other than 429 for Graph; a NO/BAD for IMAP).
 * `status` is HTTP-like: 404 means no such message or folder.
 */
export class ProviderRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderRefusedError';
  }
}

/**
 * The provider stayed unavailable or throttled after the adapter's bounded retries, or the credential could not be
 * had in time: retrying later can fix it. `status` 0 means no request reached the provider (then `code` names the
 * failure: `CredentialTimeout`, `CredentialsNotFound`, `AuthRefused`). `retryAfterMs` is the provider's advice.
 */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

/** The provider refused a watch channel's expiry as too far; `maxMinutes` is its cap when it said so. */
export class WatchLifetimeRejectedError extends Error {
  constructor(
    readonly maxMinutes: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'WatchLifetimeRejectedError';
  }
}

/** Codes of `ProviderUnavailableError` with status 0: the credential failed before any request was sent. */
export const CREDENTIAL_FAILURE_CODES = ['CredentialTimeout', 'CredentialsNotFound', 'AuthRefused'] as const;
