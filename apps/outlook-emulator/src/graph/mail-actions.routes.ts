import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore, type MessagePatch, type NewMessageInput } from '../store/mailbox-store';
import type { AttachmentContent, EmailAddress, FolderRecord } from '../store/model';
import { FLAG_STATUSES } from '../store/model';
import { responseBody, replyRecipients, responseSubject, type ResponseKind } from './compose';
import { folderParam, jsonBody, messageEntity, messageInPath } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { MailDelivery, noRecipients } from './mail-delivery';
import { parseMessageWrite, recipients } from './message-input';

const WRITE = ['Mail.ReadWrite'];
const SEND = ['Mail.Send'];

const ACTIONS: { create: string; send: string; kind: ResponseKind }[] = [
  { create: 'createReply', send: 'reply', kind: 'reply' },
  { create: 'createReplyAll', send: 'replyAll', kind: 'replyAll' },
  { create: 'createForward', send: 'forward', kind: 'forward' },
];

/**
 * Writing mail: drafts (`POST /me/messages`), sending a draft (`/send`), reply, reply-all and forward, both as
 * a draft to finish later (`createReply`, `createReplyAll`, `createForward`: `201` with the draft) and sent
 * at once (`reply`, `replyAll`, `forward`: `202`). Scopes as Graph documents them: Mail.ReadWrite to make a
 * draft, Mail.Send to send.
 */
@Injectable()
export class MailActionsRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
    private readonly delivery: MailDelivery,
  ) {}

  onModuleInit(): void {
    const r = this.router;
    r.add('POST', 'me/messages', (ctx) => this.createDraft(ctx, ctx.mailbox.wellKnown.get('drafts')!), {
      scopes: WRITE,
    });
    r.add('POST', 'me/mailFolders/:folder/messages', (ctx) => this.createDraft(ctx, this.folder(ctx)), {
      scopes: WRITE,
    });
    for (const base of ['me/messages/:id', 'me/mailFolders/:folder/messages/:id']) {
      r.add('POST', `${base}/send`, (ctx) => this.sendDraft(ctx), { scopes: SEND });
      for (const a of ACTIONS) {
        r.add('POST', `${base}/${a.create}`, (ctx) => this.createResponse(ctx, a.kind, a.create), {
          scopes: WRITE,
        });
        r.add('POST', `${base}/${a.send}`, (ctx) => this.respond(ctx, a.kind, a.send), { scopes: SEND });
      }
    }
  }

  private folder(ctx: GraphContext): FolderRecord {
    const folder = folderParam(this.store, ctx);
    if (folder === ctx.mailbox.root) {
      throw new GraphError(400, 'ErrorInvalidRequest', 'A message cannot be created in the root folder.');
    }
    return folder;
  }

  /** `POST /me/messages`: a new draft (in Drafts, or the folder of the path), `201` with the message */
  private createDraft(ctx: GraphContext, folder: FolderRecord): GraphResponse {
    const { patch, attachments } = parseMessageWrite(jsonBody(ctx), 'create');
    const msg = this.store.createMessage(folder, {
      ...draftFields(patch),
      body: patch.body ?? { contentType: 'text', content: '' },
      subject: patch.subject ?? '',
      from: this.me(ctx),
      attachments,
      isDraft: true,
      isRead: patch.isRead ?? true,
    });
    return messageEntity(this.store, ctx, msg, 201);
  }

  /** `POST /me/messages/{id}/send`: the draft goes to Sent Items and to its recipients, `202` */
  private sendDraft(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    const c = this.store.content(msg);
    if (!c.isDraft) {
      throw new GraphError(
        400,
        'ErrorInvalidItemForOperationSendItem',
        'The item is not a draft: only a draft message can be sent.',
      );
    }
    if (c.toRecipients.length + c.ccRecipients.length + c.bccRecipients.length === 0) throw noRecipients();
    this.store.markSent(msg, ctx.mailbox.wellKnown.get('sentitems')!);
    this.delivery.deliver(this.delivery.outgoing(msg));
    return { status: 202 };
  }

  /** createReply / createReplyAll / createForward: the response as a draft in Drafts, `201` */
  private createResponse(ctx: GraphContext, kind: ResponseKind, action: string): GraphResponse {
    const input = this.compose(ctx, kind, action, false);
    const msg = this.store.createMessage(ctx.mailbox.wellKnown.get('drafts')!, {
      ...input,
      isDraft: true,
      isRead: true,
    });
    return messageEntity(this.store, ctx, msg, 201);
  }

  /** reply / replyAll / forward: composed and sent at once (Sent Items and the recipients), `202` */
  private respond(ctx: GraphContext, kind: ResponseKind, action: string): GraphResponse {
    const input = this.compose(ctx, kind, action, true);
    const to = input.toRecipients ?? [];
    const cc = input.ccRecipients ?? [];
    const bcc = input.bccRecipients ?? [];
    if (to.length + cc.length + bcc.length === 0) throw noRecipients();
    const sentAt = Date.now();
    const mail = {
      subject: input.subject ?? '',
      body: { contentType: 'html' as const, content: input.body?.content ?? '' },
      from: this.me(ctx),
      toRecipients: to,
      ccRecipients: cc,
      bccRecipients: bcc,
      replyTo: input.replyTo ?? [],
      importance: input.importance ?? 'normal',
      categories: input.categories,
      internetMessageId: this.delivery.newInternetMessageId(ctx.mailbox),
      conversationId: input.conversationId,
      conversationIndex: input.conversationIndex,
      attachments: input.attachments ?? [],
      sentAt,
    };
    this.delivery.fileSent(ctx.mailbox, mail);
    this.delivery.deliver(mail);
    return { status: 202 };
  }

  /**
   * The response to a message, as Graph builds it from the action's parameters: `comment` (or the body of
   * `message`, not both), `message` (any writable message property, attachments included) and, for forward,
   * `toRecipients` (or `message.toRecipients`, not both; required when sending at once).
   */
  private compose(ctx: GraphContext, kind: ResponseKind, action: string, sendNow: boolean): NewMessageInput {
    const original = messageInPath(this.store, ctx);
    const c = this.store.content(original);
    const params = jsonBody(ctx);
    const allowed = kind === 'forward' ? ['comment', 'message', 'torecipients'] : ['comment', 'message'];
    for (const key of Object.keys(params)) {
      if (!allowed.includes(key.toLowerCase())) {
        throw new GraphError(
          400,
          'RequestBodyRead',
          `The parameter '${key}' in the request payload is not a valid parameter for the operation '${action}'.`,
        );
      }
    }
    const param = (name: string): unknown =>
      Object.entries(params).find(([k]) => k.toLowerCase() === name)?.[1];
    const comment = param('comment');
    if (comment !== undefined && comment !== null && typeof comment !== 'string') {
      throw new GraphError(400, 'ErrorInvalidRequest', "The parameter 'comment' must be a string.");
    }
    const message = param('message');
    if (
      message !== undefined &&
      (message === null || typeof message !== 'object' || Array.isArray(message))
    ) {
      throw new GraphError(400, 'ErrorInvalidRequest', "The parameter 'message' must be a message.");
    }
    const { patch, attachments: added } = message
      ? parseMessageWrite(message as Record<string, unknown>, 'create')
      : { patch: {} as MessagePatch, attachments: undefined };
    if (typeof comment === 'string' && patch.body) {
      throw new GraphError(
        400,
        'ErrorInvalidRequest',
        "Specify either the 'comment' parameter or the body of the 'message' parameter, not both.",
      );
    }
    const me = this.me(ctx);
    let to: EmailAddress[];
    let cc: EmailAddress[] = [];
    let attachments: AttachmentContent[] = added ?? [];
    if (kind === 'forward') {
      const toParam = param('torecipients');
      let listed: EmailAddress[] | undefined;
      if (toParam !== undefined) {
        listed = recipients(toParam);
        if (!listed)
          throw new GraphError(400, 'ErrorInvalidRecipients', "Invalid recipient in 'toRecipients'.");
      }
      if (listed && patch.toRecipients) {
        throw new GraphError(
          400,
          'ErrorInvalidRequest',
          "Specify either the 'toRecipients' parameter or the toRecipients of the 'message' parameter, not both.",
        );
      }
      to = listed ?? patch.toRecipients ?? [];
      if (sendNow && to.length === 0) throw noRecipients();
      // a forward carries the original's attachments
      attachments = [...this.store.attachments(original), ...attachments];
    } else {
      ({ to, cc } = replyRecipients(c, me, kind === 'replyAll'));
      to = patch.toRecipients ?? to;
      cc = patch.ccRecipients ?? cc;
    }
    return {
      ...draftFields(patch),
      subject: patch.subject ?? responseSubject(kind, c.subject),
      body: responseBody(
        c,
        typeof comment === 'string' ? { contentType: 'text', content: comment } : patch.body,
      ),
      from: me,
      toRecipients: to,
      ccRecipients: kind === 'forward' ? (patch.ccRecipients ?? []) : cc,
      conversationId: c.conversationId,
      conversationIndex: c.conversationIndex,
      attachments,
    };
  }

  private me(ctx: GraphContext): EmailAddress {
    return { name: ctx.mailbox.displayName, address: ctx.mailbox.address };
  }
}

/** the parsed writable properties, as the fields of a new message */
function draftFields(patch: MessagePatch): NewMessageInput {
  return {
    toRecipients: patch.toRecipients,
    ccRecipients: patch.ccRecipients,
    bccRecipients: patch.bccRecipients,
    replyTo: patch.replyTo,
    importance: patch.importance,
    categories: patch.categories,
    inferenceClassification: patch.inferenceClassification,
    isReadReceiptRequested: patch.isReadReceiptRequested,
    flagStatus: patch.flag !== undefined ? FLAG_STATUSES[patch.flag] : undefined,
  };
}
