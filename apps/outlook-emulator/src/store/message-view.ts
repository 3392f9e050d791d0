import { htmlToText } from './generator';
import type { MailboxStore } from './mailbox-store';
import type { EmailAddress, FolderRecord, MessageRecord } from './model';
import { FLAG_STATUSES } from './model';

export interface ViewOptions {
  /** lower-cased property names from $select; undefined = the default set */
  select?: Set<string>;
  bodyType?: 'html' | 'text';
  immutableIds?: boolean;
  baseUrl: string;
}

const recipient = (a: EmailAddress) => ({ emailAddress: { name: a.name, address: a.address } });
/** Graph writes times to the second: 2026-03-01T09:30:00Z */
const iso = (ms: number) => `${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}Z`;

/** the properties of a message in Graph's order; uniqueBody and internetMessageHeaders only when selected */
export const MESSAGE_PROPERTIES = [
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;
const SELECT_ONLY = ['uniqueBody', 'internetMessageHeaders'] as const;
const KNOWN = new Set<string>([...MESSAGE_PROPERTIES, ...SELECT_ONLY, 'id'].map((p) => p.toLowerCase()));

export function isKnownMessageProperty(name: string): boolean {
  return KNOWN.has(name.toLowerCase());
}

/** the wire form of a message, exactly as Graph v1.0 shapes it */
export function messageView(
  store: MailboxStore,
  msg: MessageRecord,
  opts: ViewOptions,
): Record<string, unknown> {
  const c = store.content(msg);
  const sel = opts.select;
  const want = (p: string) => !sel || sel.has(p.toLowerCase());
  const id = msg.idFor(opts.immutableIds ?? false);
  const out: Record<string, unknown> = { '@odata.etag': msg.etag, id };
  const text = () => c.text ?? (c.bodyContentType === 'html' ? htmlToText(c.body) : c.body);
  for (const p of MESSAGE_PROPERTIES) {
    if (!want(p)) continue;
    switch (p) {
      case 'createdDateTime':
        out[p] = iso(msg.createdAt);
        break;
      case 'lastModifiedDateTime':
        out[p] = iso(msg.modifiedAt);
        break;
      case 'changeKey':
        out[p] = msg.changeKey;
        break;
      case 'categories':
        out[p] = c.categories;
        break;
      case 'receivedDateTime':
        out[p] = iso(msg.receivedAt);
        break;
      case 'sentDateTime':
        out[p] = iso(c.sentAt);
        break;
      case 'hasAttachments':
        out[p] = c.hasAttachments;
        break;
      case 'internetMessageId':
        out[p] = c.internetMessageId;
        break;
      case 'subject':
        out[p] = c.subject;
        break;
      case 'bodyPreview':
        out[p] = text().slice(0, 400).replace(/\s+/g, ' ').trim().slice(0, 255);
        break;
      case 'importance':
        out[p] = c.importance;
        break;
      case 'parentFolderId':
        out[p] = msg.folder.id;
        break;
      case 'conversationId':
        out[p] = c.conversationId;
        break;
      case 'conversationIndex':
        out[p] = c.conversationIndex;
        break;
      case 'isDeliveryReceiptRequested':
        out[p] = false;
        break;
      case 'isReadReceiptRequested':
        out[p] = c.isReadReceiptRequested;
        break;
      case 'isRead':
        out[p] = msg.isRead;
        break;
      case 'isDraft':
        out[p] = c.isDraft;
        break;
      case 'webLink':
        out[p] = `${opts.baseUrl}/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`;
        break;
      case 'inferenceClassification':
        out[p] = c.inferenceClassification;
        break;
      case 'body':
        out[p] =
          opts.bodyType === 'text' && c.bodyContentType === 'html'
            ? { contentType: 'text', content: text() }
            : { contentType: c.bodyContentType, content: c.body };
        break;
      case 'sender':
        out[p] = recipient(c.sender);
        break;
      case 'from':
        out[p] = recipient(c.from);
        break;
      case 'toRecipients':
        out[p] = c.toRecipients.map(recipient);
        break;
      case 'ccRecipients':
        out[p] = c.ccRecipients.map(recipient);
        break;
      case 'bccRecipients':
        out[p] = c.bccRecipients.map(recipient);
        break;
      case 'replyTo':
        out[p] = c.replyTo.map(recipient);
        break;
      case 'flag':
        out[p] = { flagStatus: FLAG_STATUSES[msg.flag] ?? 'notFlagged' };
        break;
    }
  }
  if (sel?.has('uniquebody')) out.uniqueBody = { contentType: c.bodyContentType, content: c.body };
  if (sel?.has('internetmessageheaders')) {
    out.internetMessageHeaders = [
      { name: 'Message-ID', value: c.internetMessageId },
      { name: 'Subject', value: c.subject },
      { name: 'From', value: `${c.from.name} <${c.from.address}>` },
    ];
  }
  return out;
}

export function folderView(folder: FolderRecord): Record<string, unknown> {
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parent ? folder.parent.id : folder.id,
    childFolderCount: folder.children.length,
    unreadItemCount: folder.unreadCount,
    totalItemCount: folder.messages.size,
    sizeInBytes: folder.messages.size * 4096,
    isHidden: folder.isHidden,
  };
}
