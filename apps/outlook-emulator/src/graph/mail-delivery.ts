import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import type { AttachmentContent, EmailAddress, Importance, Mailbox, MessageRecord } from '../store/model';
import { GraphError } from './graph-error';

/** a message on its way out: what every copy of it (Sent Items, each recipient's Inbox) is made from */
export interface OutgoingMail {
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  from: EmailAddress;
  toRecipients: EmailAddress[];
  ccRecipients: EmailAddress[];
  bccRecipients: EmailAddress[];
  replyTo: EmailAddress[];
  importance: Importance;
  categories?: string[];
  internetMessageId: string;
  conversationId?: string;
  conversationIndex?: string;
  attachments: AttachmentContent[];
  sentAt: number;
}

export const noRecipients = (): GraphError =>
  new GraphError(400, 'ErrorInvalidRecipients', 'At least one recipient is required, but none were found.');

/**
 * The emulator's mail transport. Every copy is made through `MailboxStore.createMessage` (or the draft is moved
 * by `markSent`), so change notifications and delta see each one like any other new message.
 */
@Injectable()
export class MailDelivery {
  constructor(private readonly store: MailboxStore) {}

  newInternetMessageId(sender: Mailbox): string {
    return `<${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@${sender.address.split('@')[1]}>`;
  }

  /** a draft's content as outgoing mail */
  outgoing(msg: MessageRecord): OutgoingMail {
    const c = this.store.content(msg);
    return {
      subject: c.subject,
      body: { contentType: c.bodyContentType, content: c.body },
      from: c.from,
      toRecipients: c.toRecipients,
      ccRecipients: c.ccRecipients,
      bccRecipients: c.bccRecipients,
      replyTo: c.replyTo,
      importance: c.importance,
      categories: c.categories,
      internetMessageId: c.internetMessageId,
      conversationId: c.conversationId,
      conversationIndex: c.conversationIndex,
      attachments: this.store.attachments(msg),
      sentAt: c.sentAt,
    };
  }

  /** the sender's copy, filed in Sent Items (read, not a draft) */
  fileSent(sender: Mailbox, mail: OutgoingMail): MessageRecord {
    const at = new Date(mail.sentAt).toISOString();
    return this.store.createMessage(sender.wellKnown.get('sentitems')!, {
      ...mail,
      receivedDateTime: at,
      sentDateTime: at,
      isRead: true,
      isDraft: false,
    });
  }

  /**
   * A copy in the Inbox of every recipient (To, Cc or Bcc) that is a mailbox of this emulator, once per
   * mailbox; recipients elsewhere are accepted and dropped. Bcc recipients get the mail but nobody's copy
   * shows the Bcc line. Returns the copies made.
   */
  deliver(mail: OutgoingMail): MessageRecord[] {
    const at = new Date(mail.sentAt).toISOString();
    const delivered = new Set<string>();
    const copies: MessageRecord[] = [];
    for (const r of [...mail.toRecipients, ...mail.ccRecipients, ...mail.bccRecipients]) {
      const target = this.store.findByAddress(r.address);
      if (!target || delivered.has(target.address)) continue;
      delivered.add(target.address);
      copies.push(
        this.store.createMessage(target.wellKnown.get('inbox')!, {
          subject: mail.subject,
          body: mail.body,
          from: mail.from,
          toRecipients: mail.toRecipients,
          ccRecipients: mail.ccRecipients,
          replyTo: mail.replyTo,
          importance: mail.importance,
          internetMessageId: mail.internetMessageId,
          conversationId: mail.conversationId,
          conversationIndex: mail.conversationIndex,
          attachments: mail.attachments,
          receivedDateTime: at,
          sentDateTime: at,
          isRead: false,
          isDraft: false,
        }),
      );
    }
    return copies;
  }
}
