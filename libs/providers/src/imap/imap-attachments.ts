import type { ImapFlow, MessageStructureObject } from 'imapflow';
import type { MailboxAttachments, RemoteAttachmentContent, RemoteAttachmentInfo } from '../port';
import { imapCall, imapError, itemNotFound } from './imap-errors';
import { encodeMessageId, type ImapMessageLocation } from './imap-ids';
import { inMailbox, inSession, locate, type OpenImapSession } from './imap-actions';

/**
 * A message's attachments from its BODYSTRUCTURE; an attachment's id is its IMAP body part number ('2', '1.2').
 *
 * A leaf part is an attachment when its disposition is `attachment`; or `inline` with a file name or a type
 * other than text/plain and text/html (an inline image; an inline body text is not one); or, without a
 * disposition, when it is not text/plain or text/html and has a file name or a Content-ID, or is text of another
 * type with a file name (text/calendar invites). An embedded message (message/rfc822) is one attachment of
 * kind 'item' (its own parts are not listed). `size` is the decoded size estimated from the encoded one (base64:
 * 3/4 without line breaks), as IMAP only tells the encoded size.
 */

const BODY_TYPES = new Set(['text/plain', 'text/html']);
const PART_ID = /^[1-9]\d*(\.[1-9]\d*)*$/;

/** A Content-ID as a `cid:` reference names it: without the header's angle brackets (RFC 2392). */
function bareContentId(raw: string | undefined): string | undefined {
  const id = raw
    ?.trim()
    .replace(/^<(.*)>$/, '$1')
    .trim();
  return id ? id : undefined;
}

function decodedSize(node: MessageStructureObject): number {
  const size = node.size ?? 0;
  if ((node.encoding ?? '').toLowerCase() !== 'base64') return size;
  // 76 characters a line plus CRLF
  const lines = Math.ceil(size / 78);
  return Math.max(0, Math.floor(((size - 2 * lines) * 3) / 4));
}

function nameOf(node: MessageStructureObject, part: string): string {
  const name = node.dispositionParameters?.filename ?? node.parameters?.name;
  if (name) return name;
  if (node.type.toLowerCase() === 'message/rfc822') {
    const subject = node.envelope?.subject?.trim();
    return `${subject || 'message'}.eml`;
  }
  return `attachment-${part}`;
}

function isAttachment(node: MessageStructureObject, parentType: string | undefined): boolean {
  const type = node.type.toLowerCase();
  const disposition = node.disposition?.toLowerCase();
  const hasName = Boolean(node.dispositionParameters?.filename ?? node.parameters?.name);
  if (type === 'message/rfc822') return disposition !== 'inline' || hasName || parentType !== undefined;
  if (disposition === 'attachment') return true;
  if (disposition === 'inline') return hasName || !BODY_TYPES.has(type);
  if (BODY_TYPES.has(type)) return false;
  if (type.startsWith('text/')) return hasName;
  return hasName || Boolean(node.id);
}

/** The attachments of a message, from its BODYSTRUCTURE (imapflow's parsed form). */
export function attachmentsOf(root: MessageStructureObject | undefined): RemoteAttachmentInfo[] {
  const found: RemoteAttachmentInfo[] = [];
  const walk = (node: MessageStructureObject, parentType: string | undefined): void => {
    if (node.childNodes && node.childNodes.length > 0 && !node.type.toLowerCase().startsWith('message/')) {
      for (const child of node.childNodes) walk(child, node.type.toLowerCase());
      return;
    }
    if (node.type.toLowerCase().startsWith('multipart/')) return;
    const part = node.part ?? '1';
    if (!isAttachment(node, parentType)) return;
    const type = node.type.toLowerCase();
    const disposition = node.disposition?.toLowerCase();
    const contentId = bareContentId(node.id);
    found.push({
      id: part,
      name: nameOf(node, part),
      contentType: type,
      size: decodedSize(node),
      isInline:
        disposition === 'inline' ||
        (disposition === undefined && Boolean(node.id) && parentType === 'multipart/related'),
      ...(contentId ? { contentId } : {}),
      kind: type === 'message/rfc822' ? 'item' : 'file',
    });
  };
  if (root) walk(root, undefined);
  return found;
}

/** The attachments of a message (404 when it is gone). */
export async function listAttachments(
  client: ImapFlow,
  loc: ImapMessageLocation,
): Promise<RemoteAttachmentInfo[]> {
  return inMailbox(client, loc.path, async (mailbox) => {
    const missing = () => itemNotFound(`no message ${encodeMessageId(loc)}`);
    if (BigInt(mailbox.uidValidity) !== BigInt(loc.uidValidity)) throw missing();
    const m = await client.fetchOne(String(loc.uid), { uid: true, bodyStructure: true }, { uid: true });
    if (!m || m.uid !== loc.uid) throw missing();
    return attachmentsOf(m.bodyStructure);
  });
}

/** One attachment of a message (404 when the message or the attachment is gone). */
export async function getAttachment(
  client: ImapFlow,
  loc: ImapMessageLocation,
  attachmentId: string,
): Promise<RemoteAttachmentInfo> {
  const found = (await listAttachments(client, loc)).find((a) => a.id === attachmentId);
  if (!found) throw itemNotFound(`no attachment ${attachmentId} in message ${encodeMessageId(loc)}`);
  return found;
}

/**
 * Streams an attachment's bytes, transfer encoding removed (FETCH BODY[part] in chunks), never on disk. The
 * session stays busy until the stream ends: the caller closes it then (`ImapAttachments` does).
 */
export async function openAttachment(
  client: ImapFlow,
  loc: ImapMessageLocation,
  attachmentId: string,
): Promise<RemoteAttachmentContent> {
  const info = await getAttachment(client, loc, attachmentId);
  await imapCall(() => client.mailboxOpen(loc.path));
  const download = await imapCall(() =>
    client.download(String(loc.uid), attachmentId, { uid: true, decodeText: false }),
  );
  if (!download.content)
    throw itemNotFound(`no attachment ${attachmentId} in message ${encodeMessageId(loc)}`);
  return { contentType: info.contentType, contentLength: null, body: download.content };
}

/** The port's `MailboxAttachments` for one IMAP account, each call on a session of its own. */
export class ImapAttachments implements MailboxAttachments {
  constructor(private readonly open: OpenImapSession) {}

  async list(messageId: string): Promise<RemoteAttachmentInfo[]> {
    const loc = locate(messageId);
    return await inSession(this.open, (c) => listAttachments(c, loc));
  }

  async get(messageId: string, attachmentId: string): Promise<RemoteAttachmentInfo> {
    const loc = locate(messageId);
    if (!PART_ID.test(attachmentId)) throw itemNotFound(`no attachment ${attachmentId}`);
    return await inSession(this.open, (c) => getAttachment(c, loc, attachmentId));
  }

  /** The session is closed when the stream ends, fails or is destroyed. */
  async openContent(messageId: string, attachmentId: string): Promise<RemoteAttachmentContent> {
    const loc = locate(messageId);
    if (!PART_ID.test(attachmentId)) throw itemNotFound(`no attachment ${attachmentId}`);
    const client = await imapCall(this.open);
    let content: RemoteAttachmentContent;
    try {
      content = await openAttachment(client, loc, attachmentId);
    } catch (err) {
      await client.logout().catch(() => client.close());
      throw imapError(err);
    }
    let closed = false;
    const end = (graceful: boolean) => {
      if (closed) return;
      closed = true;
      // a stream given up on mid-download leaves a FETCH running: drop the socket rather than wait for LOGOUT
      if (graceful) void client.logout().catch(() => client.close());
      else client.close();
    };
    content.body.once('end', () => end(true));
    content.body.once('error', () => end(false));
    content.body.once('close', () => end(content.body.readableEnded));
    return content;
  }
}
