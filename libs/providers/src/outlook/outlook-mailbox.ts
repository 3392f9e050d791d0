import {
  GraphAttachmentsClient,
  GraphMailActionsClient,
  GraphMailClient,
  GraphSubscriptionsClient,
  GraphUploadSessions,
  type GraphMailClientOptions,
  type GraphSubscription,
} from '@email-core/graph';
import {
  attachmentSize,
  CredentialsNotFoundError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
} from '../port';
import type {
  ChangesFrom,
  DraftContent,
  SaveDraftOptions,
  ChangesPage,
  FlagStatus,
  Mailbox,
  MailboxAttachments,
  MailboxWatch,
  NewWatchChannel,
  OutgoingAttachment,
  OutgoingMail,
  ReplyOptions,
  ForwardOptions,
  RemoteAttachmentContent,
  RemoteAttachmentInfo,
  RemoteFolder,
  RemoteMessage,
  WatchChannel,
} from '../port';
import { outlookCall } from './outlook-errors';

/** Graph takes attachments inline up to 3 MB; larger ones go through upload sessions. */
const GRAPH_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024;

/** The attachments as one `sendMail` takes them (all bytes, 3 MB in all), or null when they do not fit. */
function inlineAttachments(
  attachments: OutgoingAttachment[],
): Array<{ name: string; contentType: string; content: Buffer }> | null {
  let total = 0;
  const inline: Array<{ name: string; contentType: string; content: Buffer }> = [];
  for (const { name, contentType, content } of attachments) {
    if (!Buffer.isBuffer(content)) return null;
    total += content.length;
    inline.push({ name, contentType, content });
  }
  return total <= GRAPH_INLINE_ATTACHMENT_BYTES ? inline : null;
}

/** A failure before a draft was sent: nothing went out, so the command may run again (503), unless it cannot. */
function notSent(err: unknown): Error {
  if (
    err instanceof ProviderRefusedError ||
    err instanceof ReauthRequiredError ||
    err instanceof CredentialsNotFoundError
  ) {
    return err;
  }
  const message = `the mail was not sent: ${err instanceof Error ? err.message : String(err)}`;
  return new ProviderUnavailableError(503, 'NOT_SENT', message);
}

/** One subscription per account, on the whole mailbox (every folder), for every kind of change. */
export const OUTLOOK_WATCH_SCOPE = 'me/messages';
const OUTLOOK_WATCH_CHANGE_TYPES = 'created,updated,deleted';

const channel = (s: GraphSubscription): WatchChannel => ({
  id: s.id,
  deliversTo: s.notificationUrl,
  expiresAt: s.expirationDateTime,
});

/** A mailbox's Graph subscriptions as the port's watch channels. */
export class OutlookWatch implements MailboxWatch {
  readonly kind = 'channels';
  readonly scope = OUTLOOK_WATCH_SCOPE;

  constructor(private readonly subscriptions: GraphSubscriptionsClient) {}

  async list(): Promise<WatchChannel[]> {
    return (await outlookCall(() => this.subscriptions.list())).map(channel);
  }

  async open(request: NewWatchChannel): Promise<WatchChannel> {
    const created = await outlookCall(() =>
      this.subscriptions.create({
        resource: OUTLOOK_WATCH_SCOPE,
        changeType: OUTLOOK_WATCH_CHANGE_TYPES,
        notificationUrl: request.deliverTo,
        lifecycleNotificationUrl: request.lifecycleTo,
        clientState: request.secret,
        expirationDateTime: request.expiresAt,
      }),
    );
    return channel(created);
  }

  async renew(id: string, expiresAt: Date): Promise<WatchChannel | null> {
    const renewed = await outlookCall(() => this.subscriptions.renew(id, expiresAt));
    return renewed ? channel(renewed) : null;
  }

  close(id: string): Promise<boolean> {
    return outlookCall(() => this.subscriptions.delete(id));
  }
}

/** A message's attachments through Graph's streaming attachments client. */
class OutlookAttachments implements MailboxAttachments {
  private client: GraphAttachmentsClient | undefined;

  constructor(private readonly options: GraphMailClientOptions) {}

  list(messageId: string): Promise<RemoteAttachmentInfo[]> {
    return outlookCall(() => this.attachments().list(messageId));
  }

  get(messageId: string, attachmentId: string): Promise<RemoteAttachmentInfo> {
    return outlookCall(() => this.attachments().get(messageId, attachmentId));
  }

  openContent(messageId: string, attachmentId: string): Promise<RemoteAttachmentContent> {
    return outlookCall(() => this.attachments().openContent(messageId, attachmentId));
  }

  private attachments(): GraphAttachmentsClient {
    return (this.client ??= new GraphAttachmentsClient(this.options));
  }
}

/**
 * One Outlook mailbox behind the port: Graph delta for changes (a cursor is a nextLink or deltaLink, replayed
 * verbatim), the mail actions, attachments and subscriptions, all on one SDK client and middleware (the vault's
 * token, `Prefer: IdType="ImmutableId"`, the per-mailbox limit, `Retry-After`). Failures come out as the port's
 * errors (outlook-errors.ts).
 */
export class OutlookMailbox implements Mailbox {
  private readonly mail: GraphMailClient;
  private readonly actions: GraphMailActionsClient;
  private readonly uploads: GraphUploadSessions;
  readonly attachments: MailboxAttachments;
  readonly watch: MailboxWatch;

  constructor(options: GraphMailClientOptions) {
    this.mail = new GraphMailClient(options);
    this.actions = new GraphMailActionsClient(this.mail.sdk);
    this.uploads = new GraphUploadSessions(this.mail.sdk, options);
    this.attachments = new OutlookAttachments(options);
    this.watch = new OutlookWatch(new GraphSubscriptionsClient(this.mail.sdk));
  }

  listFolderTree(): Promise<RemoteFolder[]> {
    return outlookCall(() => this.mail.listFolderTree());
  }

  inbox(): Promise<RemoteFolder> {
    return outlookCall(() => this.mail.inboxFolder());
  }

  async changes(from: ChangesFrom, pageSize?: number): Promise<ChangesPage> {
    const page = await outlookCall(() =>
      this.mail.deltaPage('cursor' in from ? { link: from.cursor } : { folderId: from.folderId }, pageSize),
    );
    const out: ChangesPage = { messages: page.messages, removedIds: page.removedIds };
    if (page.nextLink !== undefined) out.nextCursor = page.nextLink;
    if (page.deltaLink !== undefined) out.cursor = page.deltaLink;
    return out;
  }

  newest(folderId: string, limit: number): Promise<RemoteMessage[]> {
    return outlookCall(() => this.mail.newestMessages(folderId, limit));
  }

  folderOf(messageId: string): Promise<string | null> {
    return outlookCall(() => this.mail.getMessageFolderId(messageId));
  }

  setRead(messageId: string, isRead: boolean): Promise<void> {
    return outlookCall(() => this.actions.setRead(messageId, isRead));
  }

  setFlag(messageId: string, flagStatus: FlagStatus): Promise<void> {
    return outlookCall(() => this.actions.setFlag(messageId, flagStatus));
  }

  move(messageId: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }> {
    return outlookCall(() => this.actions.move(messageId, destinationId));
  }

  /** Graph moves it to Deleted Items under the same (immutable) id: the round's look-up finds it there */
  async delete(messageId: string): Promise<null> {
    await outlookCall(() => this.actions.delete(messageId));
    return null;
  }

  /**
   * One `sendMail` when the attachments fit inline (3 MB in all: Graph's inline limit, inside its 4 MB request);
   * otherwise a draft, each file attached (inline, or through an upload session over 3 MB), then the draft sent
   * (docs/attachments.md). A failure before the draft is sent deletes it and says nothing was sent (503, so the
   * command is retried), unless Graph refused (its 4xx as is) or the sign-in is gone.
   */
  async sendMail(mail: OutgoingMail): Promise<void> {
    const inline = inlineAttachments(mail.attachments);
    if (inline) return outlookCall(() => this.actions.sendMail({ ...mail, attachments: inline }));
    const draftId = await outlookCall(() => this.actions.createDraft(mail));
    try {
      for (const a of mail.attachments) await this.addAttachment(draftId, a);
    } catch (err) {
      await outlookCall(() => this.actions.delete(draftId)).catch(() => undefined);
      throw notSent(err);
    }
    return outlookCall(() => this.actions.sendDraft(draftId));
  }

  reply(messageId: string, opts: ReplyOptions): Promise<void> {
    return outlookCall(() => this.actions.reply(messageId, opts));
  }

  forward(messageId: string, opts: ForwardOptions): Promise<void> {
    return outlookCall(() => this.actions.forward(messageId, opts));
  }

  createReply(messageId: string, opts: ReplyOptions): Promise<string> {
    return outlookCall(() => this.actions.createReply(messageId, opts));
  }

  createForward(messageId: string, opts: ForwardOptions): Promise<string> {
    return outlookCall(() => this.actions.createForward(messageId, opts));
  }

  /** Inline up to 3 MB (`POST …/attachments`), else through a Graph upload session, read a chunk at a time. */
  addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void> {
    const { name, contentType, content } = attachment;
    if (Buffer.isBuffer(content) && content.length <= GRAPH_INLINE_ATTACHMENT_BYTES) {
      return outlookCall(() => this.actions.addAttachment(draftId, { name, contentType, content }));
    }
    const read = Buffer.isBuffer(content)
      ? (start: number, end: number) => Promise.resolve(content.subarray(start, end))
      : (start: number, end: number) => content.read(start, end);
    return outlookCall(() =>
      this.uploads.attach(draftId, { name, contentType, size: attachmentSize(attachment), read }),
    );
  }

  sendDraft(draftId: string): Promise<void> {
    return outlookCall(() => this.actions.sendDraft(draftId));
  }

  /**
   * Replacing: `PATCH` the draft (same id); a draft gone meanwhile (404) is created anew. Creating: `POST
   * /me/messages`, or for a reply/forward Graph's own draft of it (`createReply`, `createReplyAll`,
   * `createForward`, which thread it) and then `PATCH` with what the user wrote.
   */
  async saveDraft(draft: DraftContent, opts: SaveDraftOptions): Promise<string> {
    if (opts.replaceId !== undefined) {
      const id = opts.replaceId;
      try {
        await outlookCall(() => this.actions.updateDraft(id, draft));
        return id;
      } catch (err) {
        if (!(err instanceof ProviderRefusedError && err.status === 404)) throw err;
      }
    }
    const origin = opts.origin;
    if (origin === undefined) return outlookCall(() => this.actions.createDraft(draft));
    const id = await outlookCall(() =>
      origin.kind === 'forward'
        ? this.actions.createForward(origin.messageId, { comment: '', toRecipients: [] })
        : this.actions.createReply(origin.messageId, { replyAll: origin.kind === 'replyAll', comment: '' }),
    );
    await outlookCall(() => this.actions.updateDraft(id, draft));
    return id;
  }

  async discardDraft(draftId: string): Promise<void> {
    try {
      await outlookCall(() => this.actions.delete(draftId));
    } catch (err) {
      if (!(err instanceof ProviderRefusedError && err.status === 404)) throw err;
    }
  }

  folderId(idOrWellKnownName: string): Promise<string | null> {
    return outlookCall(() => this.actions.folderId(idOrWellKnownName));
  }

  newestMessageIds(folder: string, count: number): Promise<string[]> {
    return outlookCall(() => this.actions.newestMessageIds(folder, count));
  }
}
