import type { EmailAddress, MessageContent } from '../store/model';

export type ResponseKind = 'reply' | 'replyAll' | 'forward';

const MAIL_HEAD =
  '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>';

/**
 * `RE: ` or `FW: ` before the subject, without repeating the same prefix: replying to "RE: x" gives "RE: x",
 * forwarding "FW: x" gives "FW: x", but replying to "FW: x" gives "RE: FW: x", as Outlook writes them.
 */
export function responseSubject(kind: ResponseKind, subject: string): string {
  const own = kind === 'forward' ? /^\s*(fw|fwd)\s*:\s*/i : /^\s*re\s*:\s*/i;
  return `${kind === 'forward' ? 'FW' : 'RE'}: ${subject.replace(own, '')}`;
}

const same = (a: EmailAddress, b: EmailAddress) => a.address.toLowerCase() === b.address.toLowerCase();

function unique(list: EmailAddress[], without: EmailAddress[]): EmailAddress[] {
  const out: EmailAddress[] = [];
  for (const a of list) if (!without.some((w) => same(w, a)) && !out.some((o) => same(o, a))) out.push(a);
  return out;
}

/**
 * Who a reply goes to, as Outlook fills it: the `replyTo` addresses if the original has any (RFC 2822), else
 * its sender; replying to one's own sent mail goes to its recipients. Reply-all adds the original To (and keeps
 * its Cc), without the replying mailbox itself and without duplicates.
 */
export function replyRecipients(
  original: MessageContent,
  me: EmailAddress,
  all: boolean,
): { to: EmailAddress[]; cc: EmailAddress[] } {
  const mine = same(original.from, me);
  const primary = mine ? original.toRecipients : original.replyTo.length ? original.replyTo : [original.from];
  if (!all) return { to: unique(primary, mine ? [] : [me]), cc: [] };
  const to = unique([...primary, ...original.toRecipients], [me]);
  return { to, cc: unique(original.ccRecipients, [me, ...to]) };
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** the inside of an HTML document's body (or the fragment itself), or plain text made into HTML */
function bodyHtml(body: { contentType: 'html' | 'text'; content: string }): string {
  if (body.contentType === 'text') return escapeHtml(body.content).replace(/\r?\n/g, '<br>');
  const m = /<body[^>]*>([\s\S]*?)<\/body>/i.exec(body.content);
  return m ? m[1] : body.content;
}

const names = (list: EmailAddress[]) => list.map((a) => escapeHtml(a.name || a.address)).join('; ');

/**
 * The body of a reply or forward as Outlook writes it: the comment on top, a rule, a header block naming the
 * original's sender, time, recipients and subject, then the original body.
 */
export function responseBody(
  original: MessageContent,
  comment: { contentType: 'html' | 'text'; content: string } | undefined,
): { contentType: 'html'; content: string } {
  const from = `${escapeHtml(original.from.name)} &lt;${escapeHtml(original.from.address)}&gt;`;
  const header = [
    `<b>From:</b> ${from}`,
    `<b>Sent:</b> ${new Date(original.sentAt).toUTCString()}`,
    `<b>To:</b> ${names(original.toRecipients)}`,
    ...(original.ccRecipients.length ? [`<b>Cc:</b> ${names(original.ccRecipients)}`] : []),
    `<b>Subject:</b> ${escapeHtml(original.subject)}`,
  ].join('<br>');
  const content =
    `${MAIL_HEAD}<div>${comment ? bodyHtml(comment) : ''}</div>` +
    '<hr style="display:inline-block;width:98%" tabindex="-1">' +
    `<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">${header}</font><div>&nbsp;</div></div>` +
    `${bodyHtml({ contentType: original.bodyContentType, content: original.body })}</body></html>`;
  return { contentType: 'html', content };
}
