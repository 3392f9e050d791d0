import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import type { AttachmentContent, EmailAddress } from '../store/model';
import { jsonBody } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { recipients } from './messages.routes';

/** Graph's limit for attachments sent inline in a request body; larger files need an upload session */
export const INLINE_ATTACHMENT_LIMIT = 3 * 1024 * 1024;

/**
 * `POST /me/sendMail`: the message goes to the sender's Sent Items (unless saveToSentItems is false) and,
 * for every recipient that is a mailbox of this emulator, into its Inbox, which notifies its subscriptions.
 */
@Injectable()
export class SendMailRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
  ) {}

  onModuleInit(): void {
    this.router.add('POST', 'me/sendMail', (ctx) => this.send(ctx), { scopes: ['Mail.Send'] });
  }

  private send(ctx: GraphContext): GraphResponse {
    const body = jsonBody(ctx);
    const message = body.message as Record<string, unknown> | undefined;
    if (!message || typeof message !== 'object') {
      throw new GraphError(400, 'ErrorInvalidRequest', "The parameter 'message' is required.");
    }
    const list = (key: string): EmailAddress[] => {
      if (message[key] === undefined) return [];
      const r = recipients(message[key]);
      if (!r) throw new GraphError(400, 'ErrorInvalidRecipients', `Invalid recipient in '${key}'.`);
      return r;
    };
    const to = list('toRecipients');
    const cc = list('ccRecipients');
    const bcc = list('bccRecipients');
    if (to.length + cc.length + bcc.length === 0) {
      throw new GraphError(
        400,
        'ErrorInvalidRecipients',
        'At least one recipient is required, but none were found.',
      );
    }
    const attachments = this.attachments(message.attachments);
    const rawBody = message.body as { contentType?: unknown; content?: unknown } | undefined;
    const content = typeof rawBody?.content === 'string' ? rawBody.content : '';
    const contentType =
      typeof rawBody?.contentType === 'string' && rawBody.contentType.toLowerCase() === 'html'
        ? 'html'
        : 'text';
    const subject = typeof message.subject === 'string' ? message.subject : '';
    const sender = ctx.mailbox;
    const from = { name: sender.displayName, address: sender.address };
    const now = new Date().toISOString();
    const internetMessageId = `<${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@${sender.address.split('@')[1]}>`;
    const common = {
      subject,
      body: { contentType, content } as const,
      from,
      toRecipients: to,
      ccRecipients: cc,
      receivedDateTime: now,
      internetMessageId,
      attachments,
      importance: (['low', 'normal', 'high'] as const).find((i) => i === message.importance) ?? 'normal',
    };
    if (body.saveToSentItems !== false) {
      this.store.createMessage(sender.wellKnown.get('sentitems')!, {
        ...common,
        bccRecipients: bcc,
        isRead: true,
      });
    }
    const delivered = new Set<string>();
    for (const r of [...to, ...cc, ...bcc]) {
      const target = this.store.findByAddress(r.address);
      if (!target || delivered.has(target.address)) continue;
      delivered.add(target.address);
      this.store.createMessage(target.wellKnown.get('inbox')!, { ...common, isRead: false });
    }
    return { status: 202 };
  }

  private attachments(raw: unknown): AttachmentContent[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw))
      throw new GraphError(400, 'ErrorInvalidRequest', "'attachments' must be an array.");
    return raw.map((a: unknown) => {
      const att = a as Record<string, unknown> | null;
      if (!att || att['@odata.type'] !== '#microsoft.graph.fileAttachment') {
        throw new GraphError(
          400,
          'ErrorInvalidRequest',
          'Only #microsoft.graph.fileAttachment attachments are supported.',
        );
      }
      if (typeof att.name !== 'string' || typeof att.contentBytes !== 'string') {
        throw new GraphError(400, 'ErrorInvalidRequest', 'A file attachment needs a name and contentBytes.');
      }
      const bytes = Buffer.from(att.contentBytes, 'base64');
      if (bytes.length > INLINE_ATTACHMENT_LIMIT) {
        throw new GraphError(
          413,
          'ErrorRequestEntityTooLarge',
          'The attachment is larger than 3 MB; use an upload session for large attachments.',
        );
      }
      return {
        name: att.name,
        contentType: typeof att.contentType === 'string' ? att.contentType : 'application/octet-stream',
        contentBytes: bytes.toString('base64'),
        size: bytes.length,
        isInline: att.isInline === true,
      };
    });
  }
}
