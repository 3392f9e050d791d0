import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import { iso } from '../store/message-view';
import type { AttachmentContent, MessageRecord } from '../store/model';
import { jsonBody, messageInPath } from './graph-context';
import { notFound } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { fileAttachment } from './message-input';
import { odataContext } from './odata';

const WRITE = ['Mail.ReadWrite'];

/** an attachment's id: the message's immutable id and the attachment's key within it */
export function attachmentId(msg: MessageRecord, a: AttachmentContent, index: number): string {
  return `${msg.immutableId}.${a.key ?? index}`;
}

/**
 * A message's file attachments: list, get one (with `contentBytes`), its raw bytes (`$value`), add one inline
 * (up to 3 MB; Graph's upload sessions for larger files are not emulated) and delete one.
 */
@Injectable()
export class AttachmentsRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
  ) {}

  onModuleInit(): void {
    const r = this.router;
    for (const base of ['me/messages/:id', 'me/mailFolders/:folder/messages/:id']) {
      r.add('GET', `${base}/attachments`, (ctx) => this.list(ctx));
      r.add('POST', `${base}/attachments`, (ctx) => this.add(ctx), { scopes: WRITE });
      r.add('GET', `${base}/attachments/:attachment`, (ctx) => this.get(ctx));
      r.add('DELETE', `${base}/attachments/:attachment`, (ctx) => this.remove(ctx), { scopes: WRITE });
      r.add('GET', `${base}/attachments/:attachment/$value`, (ctx) => this.value(ctx));
    }
  }

  private view(msg: MessageRecord, a: AttachmentContent, index: number): Record<string, unknown> {
    return {
      '@odata.type': '#microsoft.graph.fileAttachment',
      '@odata.mediaContentType': a.contentType,
      id: attachmentId(msg, a, index),
      lastModifiedDateTime: iso(msg.createdAt),
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      isInline: a.isInline,
      contentId: a.contentId ?? null,
      contentLocation: null,
      contentBytes: a.contentBytes,
    };
  }

  private find(ctx: GraphContext): { msg: MessageRecord; attachment: AttachmentContent; index: number } {
    const msg = messageInPath(this.store, ctx);
    const list = this.store.attachments(msg);
    const index = list.findIndex((a, i) => attachmentId(msg, a, i) === ctx.params.attachment);
    if (index < 0) throw notFound();
    return { msg, attachment: list[index], index };
  }

  private list(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    return {
      status: 200,
      body: {
        '@odata.context': odataContext(ctx, 'users/messages/attachments'),
        value: this.store.attachments(msg).map((a, i) => this.view(msg, a, i)),
      },
    };
  }

  private get(ctx: GraphContext): GraphResponse {
    const { msg, attachment, index } = this.find(ctx);
    return {
      status: 200,
      body: {
        '@odata.context': odataContext(ctx, 'users/messages/attachments/$entity'),
        ...this.view(msg, attachment, index),
      },
    };
  }

  /** the raw content of a file attachment, with its own content type */
  private value(ctx: GraphContext): GraphResponse {
    const { attachment } = this.find(ctx);
    return {
      status: 200,
      headers: { 'Content-Type': attachment.contentType },
      body: Buffer.from(attachment.contentBytes, 'base64'),
    };
  }

  private add(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    const added = this.store.addAttachment(msg, fileAttachment(jsonBody(ctx)));
    const index = this.store.attachments(msg).indexOf(added);
    return {
      status: 201,
      body: {
        '@odata.context': odataContext(ctx, 'users/messages/attachments/$entity'),
        ...this.view(msg, added, index),
      },
    };
  }

  private remove(ctx: GraphContext): GraphResponse {
    const { msg, attachment, index } = this.find(ctx);
    this.store.removeAttachment(msg, attachment.key ?? index);
    return { status: 204 };
  }
}
