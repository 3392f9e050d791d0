import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type {
  ForwardOptions,
  OutgoingAttachment,
  OutgoingBody,
  OutgoingMail,
  OutgoingRecipient,
  ReplyOptions,
} from '../port';
import { sourceStream } from './attachment-stream';
import { textAlternative } from '../compose/mail-html';

/**
 * Building the mails the IMAP adapter sends and drafts: pure functions from the port's requests (and a parsed
 * original) to nodemailer's mail options, and one composer that turns them into the raw RFC 5322 message that is
 * both handed to SMTP and APPENDed to Sent, byte for byte the same.
 */

/** The header that ties a rebuilt draft to the id its first version was answered under (see imap-actions.ts). */
export const DRAFT_ID_HEADER = 'X-Email-Core-Draft-Id';

/** A composed message: what goes over SMTP and into Sent/Drafts. */
export interface ComposedMessage {
  /** the raw message (without a Bcc header unless composed with `keepBcc`) */
  raw: Buffer;
  /** the SMTP envelope: the sender and every recipient, Bcc included */
  envelope: { from: string; to: string[] };
  /** the Message-ID, with angle brackets */
  messageId: string;
}

/** Composes a mail into its raw form. `keepBcc`: keep the Bcc header (drafts, where it is the only record). */
export async function composeMessage(options: Mail.Options, keepBcc = false): Promise<ComposedMessage> {
  const node = new MailComposer(options).compile();
  // MimeNode's typings lack keepBcc, which decides whether build() writes the Bcc header
  (node as unknown as { keepBcc: boolean }).keepBcc = keepBcc;
  const envelope = node.getEnvelope();
  const raw = await new Promise<Buffer>((resolve, reject) =>
    node.build((err, message) => (err ? reject(err) : resolve(message))),
  );
  const from = typeof envelope.from === 'string' ? envelope.from : '';
  return { raw, envelope: { from, to: envelope.to }, messageId: node.messageId() };
}

/**
 * The copy of a sent message that goes to Sent: the raw message as sent, with a Bcc header in front when it had
 * Bcc recipients (the only place they are recorded; the copy sent over SMTP never shows them).
 */
export function sentCopy(raw: Buffer, bcc: OutgoingRecipient[]): Buffer {
  const addresses = bcc.map((r) => r.address).filter((a) => /^[\x21-\x7e]+$/.test(a));
  if (addresses.length === 0) return raw;
  return Buffer.concat([Buffer.from(`Bcc: ${addresses.join(', ')}\r\n`, 'ascii'), raw]);
}

const address = (r: OutgoingRecipient): Mail.Address | string =>
  r.name ? { name: r.name, address: r.address } : r.address;

const attachment = (a: OutgoingAttachment): Mail.Attachment => ({
  filename: a.name,
  contentType: a.contentType,
  // a large attachment streams in from its source as nodemailer encodes it (attachment-stream.ts)
  content: Buffer.isBuffer(a.content) ? a.content : sourceStream(a.content),
});

/** A new mail from the port's request, from the account's address. */
export function newMailOptions(from: string, mail: OutgoingMail): Mail.Options {
  return {
    from,
    to: mail.toRecipients.map(address),
    cc: mail.ccRecipients.map(address),
    bcc: mail.bccRecipients.map(address),
    subject: mail.subject,
    // HTML goes with its text alternative (multipart/alternative)
    ...ownBody(mail.body),
    attachments: mail.attachments.map(attachment),
  };
}

/** Parses a raw message (cid: links kept, so inline images stay tied to their parts). */
export function parseMessage(source: Buffer): Promise<ParsedMail> {
  return simpleParser(source, { keepCidLinks: true });
}

const list = (a: AddressObject | AddressObject[] | undefined): OutgoingRecipient[] =>
  (Array.isArray(a) ? a : a ? [a] : [])
    .flatMap((o) => o.value)
    .filter((v) => typeof v.address === 'string' && v.address !== '')
    .map((v) => (v.name ? { address: v.address!, name: v.name } : { address: v.address! }));

const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Recipients in order, each address once, none of `exclude`. */
function distinct(recipients: OutgoingRecipient[], exclude: string[]): OutgoingRecipient[] {
  const out: OutgoingRecipient[] = [];
  for (const r of recipients) {
    if (exclude.some((x) => same(x, r.address)) || out.some((o) => same(o.address, r.address))) continue;
    out.push(r);
  }
  return out;
}

/** "Re: subject", unless it already starts with "Re:" */
export function replySubject(subject: string | undefined): string {
  const s = (subject ?? '').trim();
  return /^re:/i.test(s) ? s : `Re: ${s}`;
}

/** "Fw: subject", unless it already starts with "Fw:" or "Fwd:" */
export function forwardSubject(subject: string | undefined): string {
  const s = (subject ?? '').trim();
  return /^fwd?:/i.test(s) ? s : `Fw: ${s}`;
}

/** The original's References followed by its Message-ID (RFC 5322 3.6.4). */
export function referencesOf(original: Pick<ParsedMail, 'references' | 'messageId'>): string[] {
  const refs = Array.isArray(original.references)
    ? original.references
    : original.references
      ? original.references.split(/\s+/).filter(Boolean)
      : [];
  return original.messageId && !refs.includes(original.messageId) ? [...refs, original.messageId] : refs;
}

/**
 * Who a reply goes to. Reply: the original's Reply-To, else its From (for a mail the account sent itself: its
 * To). Reply all: that, plus the original's To, and its Cc as Cc; the account's own address never.
 */
export function replyRecipients(
  original: Pick<ParsedMail, 'from' | 'replyTo' | 'to' | 'cc'>,
  self: string,
  replyAll: boolean,
): { to: OutgoingRecipient[]; cc: OutgoingRecipient[] } {
  const from = list(original.from);
  const sentBySelf = from.length > 0 && from.every((f) => same(f.address, self));
  const replyTo = list(original.replyTo);
  const primary = sentBySelf ? list(original.to) : replyTo.length > 0 ? replyTo : from;
  if (!replyAll) {
    const to = distinct(primary, sentBySelf ? [] : [self]);
    return { to: to.length > 0 ? to : primary.slice(0, 1), cc: [] };
  }
  const to = distinct([...primary, ...list(original.to)], [self]);
  const cc = distinct(list(original.cc), [self, ...to.map((r) => r.address)]);
  return { to: to.length > 0 ? to : primary.slice(0, 1), cc };
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const textAddresses = (rs: OutgoingRecipient[]): string =>
  rs.map((r) => (r.name ? `${r.name} <${r.address}>` : r.address)).join('; ');

/** The original's header block, as Outlook quotes it. */
function headerLines(original: ParsedMail): [string, string][] {
  const lines: [string, string][] = [['From', textAddresses(list(original.from))]];
  if (original.date) lines.push(['Sent', original.date.toUTCString()]);
  lines.push(['To', textAddresses(list(original.to))]);
  const cc = list(original.cc);
  if (cc.length > 0) lines.push(['Cc', textAddresses(cc)]);
  lines.push(['Subject', original.subject ?? '']);
  return lines;
}

/**
 * The body of a reply or forward: the comment, then the original quoted under its header block. HTML when the
 * original has HTML (its HTML inside a blockquote), text otherwise ("> " quoting).
 */
export function quotedBody(
  original: ParsedMail,
  comment: string,
  kind: 'reply' | 'forward',
): { html: string } | { text: string } {
  const lines = headerLines(original);
  const rule = kind === 'forward' ? '---------- Forwarded message ----------' : '-----Original Message-----';
  if (typeof original.html === 'string' && original.html !== '') {
    const commentHtml = comment
      .split(/\r?\n/)
      .map((l) => `<div>${l === '' ? '<br>' : escapeHtml(l)}</div>`)
      .join('\n');
    const head = lines.map(([k, v]) => `<b>${k}:</b> ${escapeHtml(v)}<br>`).join('\n');
    return {
      html:
        `${commentHtml}\n<hr>\n<div>${escapeHtml(rule)}<br>\n${head}</div>\n` +
        `<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">\n` +
        `${original.html}\n</blockquote>`,
    };
  }
  const quoted = (original.text ?? '')
    .replace(/\r?\n$/, '')
    .split(/\r?\n/)
    .map((l) => (kind === 'reply' ? `> ${l}` : l))
    .join('\n');
  const head = lines.map(([k, v]) => `${k}: ${v}`).join('\n');
  return { text: `${comment}\n\n${rule}\n${head}\n\n${quoted}\n` };
}

/**
 * A reply's or forward's own body (`body` of the request): complete as the user wrote it, the quote of the original
 * included (the dashboard quotes it under "On <date>, <sender> wrote:"), so nothing is quoted again here. HTML goes
 * with its text alternative.
 */
export function ownBody(body: OutgoingBody): { html: string; text: string } | { text: string } {
  return body.contentType === 'html'
    ? { html: body.content, text: textAlternative(body.content) }
    : { text: body.content };
}

/** The original's attachments, inline ones keeping their Content-ID (forward includes them all). */
function originalAttachments(original: ParsedMail): Mail.Attachment[] {
  return original.attachments.map((a) => ({
    filename: a.filename,
    contentType: a.contentType,
    content: a.content,
    ...(a.cid ? { cid: a.cid } : {}),
    ...(a.contentDisposition === 'inline' ? { contentDisposition: 'inline' as const } : {}),
  }));
}

/** A reply (all) to a parsed original, from the account's address. */
export function replyOptions(original: ParsedMail, self: string, opts: ReplyOptions): Mail.Options {
  const { to, cc } = replyRecipients(original, self, opts.replyAll);
  const references = referencesOf(original);
  const body = opts.body ? ownBody(opts.body) : quotedBody(original, opts.comment, 'reply');
  // inline images the quoted HTML refers to by cid: travel with it
  const inline =
    'html' in body
      ? originalAttachments(original).filter((a) => a.cid && body.html.includes(`cid:${a.cid}`))
      : [];
  return {
    from: self,
    to: to.map(address),
    cc: cc.map(address),
    ...(opts.bccRecipients?.length ? { bcc: opts.bccRecipients.map(address) } : {}),
    subject: replySubject(original.subject),
    ...(original.messageId ? { inReplyTo: original.messageId } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...body,
    attachments: inline,
  };
}

/** A forward of a parsed original (with all its attachments), from the account's address. */
export function forwardOptions(original: ParsedMail, self: string, opts: ForwardOptions): Mail.Options {
  const references = referencesOf(original);
  return {
    from: self,
    to: opts.toRecipients.map(address),
    ...(opts.bccRecipients?.length ? { bcc: opts.bccRecipients.map(address) } : {}),
    subject: forwardSubject(original.subject),
    ...(references.length > 0 ? { references } : {}),
    ...(opts.body ? ownBody(opts.body) : quotedBody(original, opts.comment, 'forward')),
    attachments: originalAttachments(original),
  };
}

/**
 * The mail options that rebuild a parsed draft: its recipients (Bcc included), subject, threading headers,
 * body and attachments, plus `extra` attachments; the same Message-ID. `draftIdHeader` ties the rebuilt draft to
 * the id its first version was answered under; `undefined` drops it (the version that is sent).
 */
export function rebuildOptions(
  draft: ParsedMail,
  fallbackFrom: string,
  extra: OutgoingAttachment[],
  draftIdHeader: string | undefined,
): Mail.Options {
  const from = list(draft.from)[0];
  const references = referencesOf({ references: draft.references, messageId: undefined });
  return {
    from: from ? address(from) : fallbackFrom,
    to: list(draft.to).map(address),
    cc: list(draft.cc).map(address),
    bcc: list(draft.bcc).map(address),
    subject: draft.subject ?? '',
    ...(draft.messageId ? { messageId: draft.messageId } : {}),
    ...(draft.inReplyTo ? { inReplyTo: draft.inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    // an HTML draft goes with its text alternative again (multipart/alternative), as a new mail does
    ...(typeof draft.html === 'string' && draft.html !== ''
      ? ownBody({ contentType: 'html', content: draft.html })
      : { text: draft.text ?? '' }),
    attachments: [...originalAttachments(draft), ...extra.map(attachment)],
    ...(draftIdHeader !== undefined ? { headers: { [DRAFT_ID_HEADER]: draftIdHeader } } : {}),
  };
}

/** The Bcc recipients of a parsed message. */
export function bccOf(draft: ParsedMail): OutgoingRecipient[] {
  return list(draft.bcc);
}

/** The draft-id header of a parsed draft, if it has one. */
export function draftIdOf(draft: ParsedMail): string | undefined {
  const v = draft.headers.get(DRAFT_ID_HEADER.toLowerCase());
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
