import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import { GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import { toGraphFailure, type RawCollection } from './graph-mapping';
import { GraphRequestError } from './types';

/** `flag.flagStatus` on the wire. */
export type GraphFlagStatus = 'notFlagged' | 'flagged' | 'complete';

export interface OutgoingRecipient {
  address: string;
  name?: string;
}

/** A file sent inline (Graph takes up to 3 MB per attachment this way). */
export interface OutgoingAttachment {
  name: string;
  contentType: string;
  content: Buffer;
}

export interface OutgoingMail {
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  toRecipients: OutgoingRecipient[];
  ccRecipients: OutgoingRecipient[];
  bccRecipients: OutgoingRecipient[];
  attachments: OutgoingAttachment[];
}

const recipients = (list: OutgoingRecipient[]) =>
  list.map((r) => ({ emailAddress: r.name ? { address: r.address, name: r.name } : { address: r.address } }));

const fileAttachment = (a: OutgoingAttachment) => ({
  '@odata.type': '#microsoft.graph.fileAttachment',
  name: a.name,
  contentType: a.contentType,
  contentBytes: a.content.toString('base64'),
});

/** What a saved draft carries (no attachments). */
export type DraftFields = Omit<OutgoingMail, 'attachments'>;

const draftBody = (d: DraftFields) => ({
  subject: d.subject,
  body: { contentType: d.body.contentType, content: d.body.content },
  toRecipients: recipients(d.toRecipients),
  ccRecipients: recipients(d.ccRecipients),
  bccRecipients: recipients(d.bccRecipients),
});

const message = (id: string) => `/me/messages/${encodeURIComponent(id)}`;

/**
 * A reply or forward: `body` (HTML or text) is its whole body, the quote included (Graph's own quote is replaced);
 * without it, `comment` (text) goes on top of Graph's quote.
 */
export interface GraphReplyOptions {
  replyAll: boolean;
  comment: string;
  body?: OutgoingMail['body'];
  bccRecipients?: OutgoingRecipient[];
}
export type GraphForwardOptions = Omit<GraphReplyOptions, 'replyAll'> & { toRecipients: OutgoingRecipient[] };

/**
 * The parameters of reply, replyAll, forward and their create* drafts: `comment` (Graph quotes the original below
 * it) unless a whole `body` is set afterwards; Bcc recipients in `message.bccRecipients`.
 */
function responseParams(opts: Omit<GraphReplyOptions, 'replyAll'>): Record<string, unknown> {
  const bcc = opts.bccRecipients?.length
    ? { message: { bccRecipients: recipients(opts.bccRecipients) } }
    : {};
  return { ...(opts.body ? {} : { comment: opts.comment }), ...bcc };
}

/**
 * The write side of Graph mail for one mailbox: read/flag state, move, delete, send, reply and forward. It runs on
 * the same SDK client and middleware as `GraphMailClient` (bearer token from the vault, `Prefer:
 * IdType="ImmutableId"` on every request, the per-mailbox limit of 4, retries honouring `Retry-After`), so every
 * id in and out is an immutable id. Errors come out as `GraphRequestError` (4xx: Graph refused, nothing changed)
 * or `GraphTransientError` (throttled, 5xx, network, after the client's retries). The token never appears in
 * an error or a log.
 */
export class GraphMailActionsClient {
  constructor(private readonly sdk: Client) {}

  /** A client with its own middleware chain (tests; the consumer reuses `GraphClientFactory`'s clients). */
  static create(options: GraphMailClientOptions): GraphMailActionsClient {
    return new GraphMailActionsClient(new GraphMailClient(options).sdk);
  }

  /** `PATCH /me/messages/{id}` `{isRead}`. */
  async setRead(id: string, isRead: boolean): Promise<void> {
    await this.send(this.sdk.api(message(id)), 'patch', { isRead });
  }

  /** `PATCH /me/messages/{id}` `{flag: {flagStatus}}`. */
  async setFlag(id: string, flagStatus: GraphFlagStatus): Promise<void> {
    await this.send(this.sdk.api(message(id)), 'patch', { flag: { flagStatus } });
  }

  /**
   * `POST /me/messages/{id}/move` `{destinationId}` (an id or a well-known name); answers the message as it is
   * now: with immutable ids its id is unchanged and `parentFolderId` is the destination's real id.
   */
  async move(id: string, destinationId: string): Promise<{ id: string; parentFolderId: string | null }> {
    const moved = await this.send<{ id: string; parentFolderId?: string | null }>(
      this.sdk.api(`${message(id)}/move`),
      'post',
      { destinationId },
    );
    return { id: moved?.id ?? id, parentFolderId: moved?.parentFolderId ?? null };
  }

  /** `DELETE /me/messages/{id}`. */
  async delete(id: string): Promise<void> {
    await this.send(this.sdk.api(message(id)), 'delete');
  }

  /** `POST /me/sendMail` with the attachments inline and a copy saved to Sent Items (Graph answers 202). */
  async sendMail(mail: OutgoingMail): Promise<void> {
    await this.send(this.sdk.api('/me/sendMail'), 'post', {
      message: {
        subject: mail.subject,
        body: { contentType: mail.body.contentType, content: mail.body.content },
        toRecipients: recipients(mail.toRecipients),
        ccRecipients: recipients(mail.ccRecipients),
        bccRecipients: recipients(mail.bccRecipients),
        ...(mail.attachments.length > 0 ? { attachments: mail.attachments.map(fileAttachment) } : {}),
      },
      saveToSentItems: true,
    });
  }

  /**
   * `POST /me/messages/{id}/reply` (or `replyAll`), see `responseParams`: sends at once. With a whole `body`:
   * `createReply`, the body set, `send` (Graph would quote the original again under a body given to `reply`).
   */
  async reply(id: string, opts: GraphReplyOptions): Promise<void> {
    if (opts.body) return this.sendDraft(await this.createReply(id, opts));
    await this.send(
      this.sdk.api(`${message(id)}/${opts.replyAll ? 'replyAll' : 'reply'}`),
      'post',
      responseParams(opts),
    );
  }

  /** `POST /me/messages/{id}/forward` with `toRecipients`, see `responseParams`: sends at once. */
  async forward(id: string, opts: GraphForwardOptions): Promise<void> {
    if (opts.body) return this.sendDraft(await this.createForward(id, opts));
    await this.send(this.sdk.api(`${message(id)}/forward`), 'post', {
      ...responseParams(opts),
      toRecipients: recipients(opts.toRecipients),
    });
  }

  /** `POST /me/messages/{id}/createReply` (or `createReplyAll`): the draft's id (in Drafts). */
  async createReply(id: string, opts: GraphReplyOptions): Promise<string> {
    const draft = await this.send<{ id: string }>(
      this.sdk.api(`${message(id)}/${opts.replyAll ? 'createReplyAll' : 'createReply'}`),
      'post',
      responseParams(opts),
    );
    if (opts.body) await this.setBody(draft.id, opts.body);
    return draft.id;
  }

  /** `POST /me/messages/{id}/createForward` with `toRecipients`: the draft's id (in Drafts). */
  async createForward(id: string, opts: GraphForwardOptions): Promise<string> {
    const draft = await this.send<{ id: string }>(this.sdk.api(`${message(id)}/createForward`), 'post', {
      ...responseParams(opts),
      toRecipients: recipients(opts.toRecipients),
    });
    if (opts.body) await this.setBody(draft.id, opts.body);
    return draft.id;
  }

  /** `PATCH /me/messages/{draftId}` `{body}`: a response draft's whole body (Graph's quote replaced). */
  private async setBody(draftId: string, body: OutgoingMail['body']): Promise<void> {
    await this.send(this.sdk.api(message(draftId)), 'patch', { body });
  }

  /** `POST /me/messages/{draftId}/attachments` with one file attachment, inline. */
  async addAttachment(draftId: string, attachment: OutgoingAttachment): Promise<void> {
    await this.send(this.sdk.api(`${message(draftId)}/attachments`), 'post', fileAttachment(attachment));
  }

  /** `POST /me/messages/{draftId}/send` (Graph answers 202; the draft goes to Sent Items). */
  async sendDraft(draftId: string): Promise<void> {
    await this.send(this.sdk.api(`${message(draftId)}/send`), 'post', {});
  }

  /** `POST /me/messages`: a new draft in Drafts with these fields; its id. */
  async createDraft(draft: DraftFields): Promise<string> {
    const created = await this.send<{ id: string }>(this.sdk.api('/me/messages'), 'post', draftBody(draft));
    return created.id;
  }

  /** `PATCH /me/messages/{draftId}`: a draft's fields replaced (Graph keeps its id). */
  async updateDraft(draftId: string, draft: DraftFields): Promise<void> {
    await this.send(this.sdk.api(message(draftId)), 'patch', draftBody(draft));
  }

  /** A folder's real id from an id or a well-known name (`sentitems`); null when there is no such folder. */
  async folderId(idOrWellKnownName: string): Promise<string | null> {
    try {
      const folder = await this.send<{ id: string }>(
        this.sdk.api(`/me/mailFolders/${encodeURIComponent(idOrWellKnownName)}`).select('id'),
        'get',
      );
      return folder.id;
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) return null;
      throw err;
    }
  }

  /** The ids of a folder's newest messages (by `receivedDateTime`), at most `count`. */
  async newestMessageIds(folder: string, count: number): Promise<string[]> {
    const page = await this.send<RawCollection<{ id: string }>>(
      this.sdk
        .api(`/me/mailFolders/${encodeURIComponent(folder)}/messages`)
        .select('id')
        .orderby('receivedDateTime desc')
        .top(count),
      'get',
    );
    return (page.value ?? []).map((m) => m.id);
  }

  private async send<T = unknown>(
    request: GraphRequest,
    method: 'get' | 'post' | 'patch' | 'delete',
    body?: unknown,
  ): Promise<T> {
    try {
      switch (method) {
        case 'get':
          return (await request.get()) as T;
        case 'post':
          return (await request.post(body)) as T;
        case 'patch':
          return (await request.patch(body)) as T;
        case 'delete':
          return (await request.delete()) as T;
      }
    } catch (err) {
      throw toGraphFailure(err);
    }
  }
}
