import { Readable } from 'node:stream';
import {
  CursorLostError,
  ProviderRefusedError,
  type ChangesFrom,
  type ChangesPage,
  type DraftContent,
  type SaveDraftOptions,
  type FlagStatus,
  type Mailbox,
  type MailboxAttachments,
  type MailboxWatch,
  type ManyIdsAction,
  type ManyIdsResult,
  type OutgoingAttachment,
  type OutgoingMail,
  type OutgoingRecipient,
  type RemoteAttachmentContent,
  type RemoteAttachmentInfo,
  type RemoteFolder,
  type RemoteMessage,
} from '../port';
import { decodeCursor, encodeCursor, type CursorState } from './memory-cursor';
import {
  MemoryMailboxError,
  type MemoryAddress,
  type MemoryAttachment,
  type MemoryMailbox,
  type MemoryMessage,
} from './memory-mailbox';

/** A page when the reader names no size (Graph's default, for the same paging in both adapters' tests). */
export const DEFAULT_PAGE_SIZE = 10;

/** What the client needs of its provider: the mailbox (or the failure it answers with) and delivery of mail. */
export interface MemoryMailboxHost {
  /** the account's mailbox; throws the port's error when the account cannot be served */
  open(): MemoryMailbox;
  /** puts a copy of a sent mail into every mailbox the provider holds for its recipients' addresses */
  deliver(message: MemoryMessage, recipients: MemoryAddress[]): void;
  readonly watch: MailboxWatch;
}

const notFound = (what: string) => new ProviderRefusedError(404, 'NotFound', `${what} does not exist`);

/**
 * One account's mailbox, served from memory through the provider port: the reader answers from the folder's
 * change log, the actions change the mailbox (and so show up in the next read, and in the watch), as a real
 * provider would.
 */
/** The memory provider keeps attachments as bytes; a chunked source is for the real adapters only. */
function bytesOf(a: OutgoingAttachment): Buffer {
  if (!Buffer.isBuffer(a.content))
    throw new Error('the memory provider takes attachments as bytes, not sources');
  return a.content;
}

export class MemoryMailboxClient implements Mailbox {
  readonly attachments: MailboxAttachments;

  constructor(private readonly host: MemoryMailboxHost) {
    this.attachments = {
      list: (messageId) => this.run(() => this.message(messageId).attachments.map(attachmentInfo)),
      get: (messageId, attachmentId) =>
        this.run(() => attachmentInfo(this.attachment(messageId, attachmentId))),
      openContent: (messageId, attachmentId) =>
        this.run((): RemoteAttachmentContent => {
          const a = this.attachment(messageId, attachmentId);
          return {
            contentType: a.contentType,
            contentLength: a.content.length,
            body: Readable.from([a.content]),
          };
        }),
    };
  }

  get watch(): MailboxWatch {
    return this.host.watch;
  }

  // ---- reading ----

  listFolderTree(): Promise<RemoteFolder[]> {
    return this.run(() => {
      const box = this.host.open();
      const folders = box.folders();
      const ordered: RemoteFolder[] = [];
      const visit = (parentId: string | null) => {
        for (const f of folders.filter((x) => x.parentId === parentId)) {
          const counts = box.counts(f.id);
          ordered.push({
            id: f.id,
            parentFolderId: f.parentId,
            displayName: f.displayName,
            wellKnownName: f.wellKnownName,
            totalItemCount: counts.total,
            unreadItemCount: counts.unread,
          });
          visit(f.id);
        }
      };
      visit(null);
      return ordered;
    });
  }

  changes(from: ChangesFrom, pageSize = DEFAULT_PAGE_SIZE): Promise<ChangesPage> {
    return this.run(() => {
      const box = this.host.open();
      let state: CursorState;
      if ('folderId' in from) {
        if (!box.findFolder(from.folderId)) throw notFound(`folder ${from.folderId}`);
        state = {
          folderId: from.folderId,
          generation: box.generation(from.folderId),
          since: 0,
          upto: box.currentVersion,
          position: { after: '' },
        };
      } else {
        const stored = decodeCursor(from.cursor);
        if (!stored) throw new ProviderRefusedError(400, 'InvalidCursor', 'not a cursor of this mailbox');
        if (!box.findFolder(stored.folderId)) throw notFound(`folder ${stored.folderId}`);
        if (stored.generation !== box.generation(stored.folderId)) {
          throw new CursorLostError(`the cursor of folder ${stored.folderId} expired`);
        }
        state =
          stored.position === 'done'
            ? { ...stored, upto: box.currentVersion, position: { offset: 0 } }
            : stored;
      }
      return page(box, state, Math.max(1, pageSize));
    });
  }

  folderOf(messageId: string): Promise<string | null> {
    return this.run(() => this.host.open().find(messageId)?.folderId ?? null);
  }

  // ---- acting ----

  setRead(messageId: string, isRead: boolean): Promise<void> {
    return this.run(() => {
      this.host.open().update(messageId, { isRead });
    });
  }

  setFlag(messageId: string, flagStatus: FlagStatus): Promise<void> {
    return this.run(() => {
      this.host.open().update(messageId, { flagStatus });
    });
  }

  move(messageId: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }> {
    return this.run(() => {
      const box = this.host.open();
      const dest = box.findFolder(destinationId);
      if (!dest) throw notFound(`folder ${destinationId}`);
      const moved = box.move(messageId, dest.id);
      return { id: moved.id, parentFolderId: moved.folderId };
    });
  }

  /** gone for good */
  delete(messageId: string): Promise<null> {
    return this.run(() => {
      this.host.open().delete(messageId);
      return null;
    });
  }

  /** Many ids: one at a time through the methods above, each id's refusal its own result (as the port says). */
  async applyMany(messageIds: string[], action: ManyIdsAction): Promise<ManyIdsResult[]> {
    if (action.action === 'move') {
      const dest = await this.run(() => this.host.open().findFolder(action.destinationId));
      if (!dest) throw notFound(`folder ${action.destinationId}`);
    }
    const results: ManyIdsResult[] = [];
    for (const id of new Set(messageIds)) {
      try {
        switch (action.action) {
          case 'markRead':
            await this.setRead(id, action.isRead);
            results.push({ id, ok: true });
            break;
          case 'flag':
            await this.setFlag(id, action.flagStatus);
            results.push({ id, ok: true });
            break;
          case 'move':
            results.push({ id, ok: true, now: await this.move(id, action.destinationId) });
            break;
          case 'delete':
            results.push({ id, ok: true, now: await this.delete(id) });
            break;
        }
      } catch (err) {
        if (!(err instanceof ProviderRefusedError)) throw err;
        results.push({ id, ok: false, error: err });
      }
    }
    return results;
  }

  sendMail(mail: OutgoingMail): Promise<void> {
    return this.run(() => {
      const box = this.host.open();
      const sent = box.add(this.wellKnownFolder(box, 'sentitems'), {
        subject: mail.subject,
        body: mail.body,
        from: { name: box.address, address: box.address },
        toRecipients: mail.toRecipients.map(address),
        ccRecipients: mail.ccRecipients.map(address),
        isRead: true,
        attachments: mail.attachments.map((a, i) => ({
          ...a,
          content: bytesOf(a),
          id: `att-${i + 1}`,
          isInline: false,
        })),
      });
      this.host.deliver(
        sent,
        [...mail.toRecipients, ...mail.ccRecipients, ...mail.bccRecipients].map(address),
      );
    });
  }

  reply(messageId: string, opts: { replyAll: boolean; comment: string }): Promise<void> {
    return this.run(() => this.send(this.draftReply(messageId, opts)));
  }

  forward(messageId: string, opts: { comment: string; toRecipients: OutgoingRecipient[] }): Promise<void> {
    return this.run(() => this.send(this.draftForward(messageId, opts)));
  }

  createReply(messageId: string, opts: { replyAll: boolean; comment: string }): Promise<string> {
    return this.run(() => this.draftReply(messageId, opts));
  }

  createForward(
    messageId: string,
    opts: { comment: string; toRecipients: OutgoingRecipient[] },
  ): Promise<string> {
    return this.run(() => this.draftForward(messageId, opts));
  }

  addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void> {
    return this.run(() => {
      const box = this.host.open();
      if (!box.get(draftId).isDraft) throw notADraft(draftId);
      box.addAttachment(draftId, { ...attachment, content: bytesOf(attachment), isInline: false });
    });
  }

  sendDraft(draftId: string): Promise<void> {
    return this.run(() => this.send(draftId));
  }

  /** a new draft each time (a new id, as on IMAP); the replaced one is removed */
  saveDraft(draft: DraftContent, opts: SaveDraftOptions): Promise<string> {
    return this.run(() => {
      const box = this.host.open();
      const previous = opts.replaceId !== undefined ? box.find(opts.replaceId) : undefined;
      const origin = previous === undefined && opts.origin ? box.find(opts.origin.messageId) : undefined;
      const id = box.add(this.wellKnownFolder(box, 'drafts'), {
        subject: draft.subject,
        body: draft.body,
        from: { name: box.address, address: box.address },
        toRecipients: draft.toRecipients.map(address),
        ccRecipients: draft.ccRecipients.map(address),
        conversationId: previous?.conversationId ?? origin?.conversationId,
        isRead: true,
        isDraft: true,
      }).id;
      if (previous?.isDraft) box.delete(previous.id);
      return id;
    });
  }

  discardDraft(draftId: string): Promise<void> {
    return this.run(() => {
      const box = this.host.open();
      if (box.find(draftId)) box.delete(draftId);
    });
  }

  folderId(idOrWellKnownName: string): Promise<string | null> {
    return this.run(() => this.host.open().findFolder(idOrWellKnownName)?.id ?? null);
  }

  newestMessageIds(folder: string, count: number): Promise<string[]> {
    return this.run(() => {
      const box = this.host.open();
      const f = box.findFolder(folder);
      if (!f) throw notFound(`folder ${folder}`);
      return box
        .inFolder(f.id)
        .sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0))
        .slice(0, count)
        .map((m) => m.id);
    });
  }

  // ---- internals ----

  private draftReply(messageId: string, opts: { replyAll: boolean; comment: string }): string {
    const box = this.host.open();
    const original = box.get(messageId);
    const others = (list: MemoryAddress[]) => list.filter((r) => r.address !== box.address);
    return box.add(this.wellKnownFolder(box, 'drafts'), {
      subject: `RE: ${original.subject}`,
      body: { contentType: 'text', content: opts.comment },
      from: { name: box.address, address: box.address },
      toRecipients: original.from ? [original.from] : [],
      ccRecipients: opts.replyAll ? others([...original.toRecipients, ...original.ccRecipients]) : [],
      conversationId: original.conversationId,
      isRead: true,
      isDraft: true,
    }).id;
  }

  private draftForward(
    messageId: string,
    opts: { comment: string; toRecipients: OutgoingRecipient[] },
  ): string {
    const box = this.host.open();
    const original = box.get(messageId);
    return box.add(this.wellKnownFolder(box, 'drafts'), {
      subject: `FW: ${original.subject}`,
      body: { contentType: 'text', content: `${opts.comment}\n\n${original.body.content}` },
      from: { name: box.address, address: box.address },
      toRecipients: opts.toRecipients.map(address),
      attachments: original.attachments,
      conversationId: original.conversationId,
      isRead: true,
      isDraft: true,
    }).id;
  }

  /** a draft goes to Sent Items (keeping its id) and a copy to each recipient the provider holds */
  private send(draftId: string): void {
    const box = this.host.open();
    if (!box.get(draftId).isDraft) throw notADraft(draftId);
    box.update(draftId, { isDraft: false, sentAt: new Date().toISOString() });
    const sent = box.move(draftId, this.wellKnownFolder(box, 'sentitems'));
    this.host.deliver(sent, [...sent.toRecipients, ...sent.ccRecipients]);
  }

  private wellKnownFolder(box: MemoryMailbox, wellKnownName: string): string {
    const f = box.findFolder(wellKnownName);
    if (!f) throw notFound(`folder ${wellKnownName}`);
    return f.id;
  }

  private message(id: string): MemoryMessage {
    return this.host.open().get(id);
  }

  private attachment(messageId: string, attachmentId: string): MemoryAttachment {
    const a = this.host.open().attachment(messageId, attachmentId);
    if (!a) throw notFound(`attachment ${attachmentId}`);
    return a;
  }

  /** runs a call as the provider would answer it: asynchronously, the mailbox's own errors as the port's */
  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof MemoryMailboxError) {
        return Promise.reject(
          err.code === 'MESSAGE_NOT_FOUND' || err.code === 'FOLDER_NOT_FOUND'
            ? notFound(err.message.replace(/^no /, ''))
            : new ProviderRefusedError(409, err.code, err.message),
        );
      }
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function page(box: MemoryMailbox, state: CursorState, pageSize: number): ChangesPage {
  const done = (): string => encodeCursor({ ...state, since: state.upto, position: 'done' });
  const { folderId, position } = state;
  if (position !== 'done' && 'after' in position) {
    // from scratch: the folder's messages in id order, as they are now
    const rest = box.inFolder(folderId).filter((m) => m.id > position.after);
    const served = rest.slice(0, pageSize);
    const more = rest.length > pageSize;
    return {
      messages: served.map(remoteMessage),
      removedIds: [],
      ...(more
        ? { nextCursor: encodeCursor({ ...state, position: { after: served[served.length - 1].id } }) }
        : { cursor: done() }),
    };
  }
  // incremental: every id the folder's log names in (since, upto], in its state now
  const offset = position === 'done' ? 0 : position.offset;
  const ids = box.changedSince(folderId, state.since, state.upto);
  const messages: RemoteMessage[] = [];
  const removedIds: string[] = [];
  for (const id of ids.slice(offset, offset + pageSize)) {
    const m = box.find(id);
    if (m && m.folderId === folderId) messages.push(remoteMessage(m));
    else removedIds.push(id);
  }
  const more = offset + pageSize < ids.length;
  return {
    messages,
    removedIds,
    ...(more
      ? { nextCursor: encodeCursor({ ...state, position: { offset: offset + pageSize } }) }
      : { cursor: done() }),
  };
}

/** the port's message: what the mirror stores, with a preview of the body's text */
export function remoteMessage(m: MemoryMessage): RemoteMessage {
  return {
    id: m.id,
    folderId: m.folderId,
    changeKey: m.changeKey,
    subject: m.subject,
    from: m.from,
    toRecipients: m.toRecipients,
    ccRecipients: m.ccRecipients,
    bodyPreview: preview(m.body),
    body: m.body,
    receivedAt: m.receivedAt,
    sentAt: m.sentAt,
    isRead: m.isRead,
    flagStatus: m.flagStatus,
    importance: m.importance,
    hasAttachments: m.attachments.some((a) => !a.isInline),
    isDraft: m.isDraft,
    conversationId: m.conversationId,
    internetMessageId: m.internetMessageId,
  };
}

function preview(body: MemoryMessage['body']): string {
  const text = body.contentType === 'html' ? body.content.replace(/<[^>]*>/g, ' ') : body.content;
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

function attachmentInfo(a: MemoryAttachment): RemoteAttachmentInfo {
  return {
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    size: a.content.length,
    isInline: a.isInline,
    kind: 'file',
  };
}

const address = (r: OutgoingRecipient): MemoryAddress => ({ name: r.name ?? r.address, address: r.address });

const notADraft = (id: string) =>
  new ProviderRefusedError(400, 'NotADraft', `message ${id} is not a draft: only a draft can be sent`);
