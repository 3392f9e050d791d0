import { bodyPreview, htmlToText } from './generator';
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

/** recipients are immutable values, so their wire form is made once per address object */
const recipientViews = new WeakMap<EmailAddress, { emailAddress: { name: string; address: string } }>();
function recipient(a: EmailAddress): { emailAddress: { name: string; address: string } } {
  let v = recipientViews.get(a);
  if (!v) {
    v = { emailAddress: { name: a.name, address: a.address } };
    recipientViews.set(a, v);
  }
  return v;
}

const FLAG_VIEWS = FLAG_STATUSES.map((flagStatus) => ({ flagStatus }));

/** "YYYY-MM-DDT" per day number, so formatting a time is integer arithmetic and one concatenation */
const dayPrefixes = new Map<number, string>();
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Graph writes times to the second: 2026-03-01T09:30:00Z */
export function iso(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const secs = Math.floor((ms - day * 86_400_000) / 1000);
  return `${prefix}${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}Z`;
}

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
  const id = msg.idFor(opts.immutableIds ?? false);
  const text = c.text ?? (c.bodyContentType === 'html' ? htmlToText(c.body) : c.body);
  // one object literal in Graph's property order (a single shape, which keeps a 1,000-message page cheap)
  const full: Record<string, unknown> = {
    '@odata.etag': msg.etag,
    id,
    createdDateTime: iso(msg.createdAt),
    lastModifiedDateTime: iso(msg.modifiedAt),
    changeKey: msg.changeKey,
    categories: c.categories,
    receivedDateTime: iso(msg.receivedAt),
    sentDateTime: iso(c.sentAt),
    hasAttachments: c.hasAttachments,
    internetMessageId: c.internetMessageId,
    subject: c.subject,
    bodyPreview: c.preview ?? bodyPreview(text),
    importance: c.importance,
    parentFolderId: msg.folder.id,
    conversationId: c.conversationId,
    conversationIndex: c.conversationIndex,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: c.isReadReceiptRequested,
    isRead: msg.isRead,
    isDraft: c.isDraft,
    webLink: `${opts.baseUrl}/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: c.inferenceClassification,
    body:
      opts.bodyType === 'text' && c.bodyContentType === 'html'
        ? { contentType: 'text', content: text }
        : { contentType: c.bodyContentType, content: c.body },
    sender: recipient(c.sender),
    from: recipient(c.from),
    toRecipients: c.toRecipients.map(recipient),
    ccRecipients: c.ccRecipients.map(recipient),
    bccRecipients: c.bccRecipients.map(recipient),
    replyTo: c.replyTo.map(recipient),
    flag: FLAG_VIEWS[msg.flag] ?? FLAG_VIEWS[0],
  };
  const sel = opts.select;
  if (!sel) return full;
  const out: Record<string, unknown> = { '@odata.etag': full['@odata.etag'], id };
  for (const p of MESSAGE_PROPERTIES) if (sel.has(p.toLowerCase())) out[p] = full[p];
  if (sel.has('uniquebody')) out.uniqueBody = { contentType: c.bodyContentType, content: c.body };
  if (sel.has('internetmessageheaders')) {
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
