import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EmailAddress } from '../store/model';
import { jsonBody } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { MailDelivery, noRecipients } from './mail-delivery';
import { fileAttachments, recipients } from './message-input';

/**
 * `POST /me/sendMail`: the message goes to the sender's Sent Items (unless saveToSentItems is false) and,
 * for every recipient that is a mailbox of this emulator, into its Inbox, which notifies its subscriptions.
 */
@Injectable()
export class SendMailRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly delivery: MailDelivery,
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
    const replyTo = list('replyTo');
    if (to.length + cc.length + bcc.length === 0) throw noRecipients();
    const attachments = fileAttachments(message.attachments);
    const rawBody = message.body as { contentType?: unknown; content?: unknown } | undefined;
    const content = typeof rawBody?.content === 'string' ? rawBody.content : '';
    const contentType =
      typeof rawBody?.contentType === 'string' && rawBody.contentType.toLowerCase() === 'html'
        ? 'html'
        : 'text';
    const sender = ctx.mailbox;
    const importance =
      typeof message.importance === 'string' ? message.importance.toLowerCase() : message.importance;
    const mail = {
      subject: typeof message.subject === 'string' ? message.subject : '',
      body: { contentType, content } as const,
      from: { name: sender.displayName, address: sender.address },
      toRecipients: to,
      ccRecipients: cc,
      bccRecipients: bcc,
      replyTo,
      internetMessageId: this.delivery.newInternetMessageId(sender),
      attachments,
      importance: (['low', 'normal', 'high'] as const).find((i) => i === importance) ?? 'normal',
      sentAt: Date.now(),
    };
    if (body.saveToSentItems !== false) this.delivery.fileSent(sender, mail);
    this.delivery.deliver(mail);
    return { status: 202 };
  }
}
