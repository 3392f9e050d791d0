import createDOMPurify from 'dompurify';
import type { MessageDetail } from '@/hooks/use-mail';
import { longDate, personFull, recipientList } from './format';

/**
 * What the compose editor starts with: an empty line for the cursor, the account's signature under "-- ", and for
 * a reply or forward the original quoted below (a reply under "On <date>, <sender> wrote:", a forward under its
 * header block), in a blockquote. The quote is part of the body the user sends (and may trim): the command carries
 * the whole body, and neither Graph nor the IMAP adapter quotes the original again.
 */
export function initialBody(
  mode: 'new' | 'reply' | 'replyAll' | 'forward',
  original: MessageDetail | undefined,
  signatureHtml: string | null | undefined,
): string {
  const signature = signatureHtml?.trim() ? `<p>-- </p>${cleanHtml(signatureHtml)}` : '';
  const top = `<p></p>${signature}`;
  if (!original || mode === 'new') return top;
  const sender = original.from ? personFull(original.from) : '(no sender)';
  const head =
    mode === 'forward'
      ? `<p>---------- Forwarded message ----------<br>From: ${escapeHtml(sender)}<br>` +
        `Date: ${escapeHtml(longDate(original.receivedAt))}<br>` +
        `Subject: ${escapeHtml(original.subject)}<br>To: ${escapeHtml(recipientList(original.toRecipients))}</p>`
      : `<p>On ${escapeHtml(longDate(original.receivedAt))}, ${escapeHtml(sender)} wrote:</p>`;
  return `${top}<p></p>${head}<blockquote>${originalHtml(original)}</blockquote>`;
}

function originalHtml(original: MessageDetail): string {
  const body = original.body;
  if (!body) return `<p>${escapeHtml(original.bodyPreview)}</p>`;
  if (body.contentType === 'html') return cleanHtml(body.content);
  return body.content
    .replace(/\r\n/g, '\n')
    .split(/\n{2,}/)
    .map((para) => `<p>${escapeHtml(para).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

let purify: ReturnType<typeof createDOMPurify> | undefined;

/**
 * HTML from elsewhere (a received mail, the stored signature) made inert before the editor parses it: no
 * script, style, form, frame or image (remote images would load from the compose window), no handlers.
 */
export function cleanHtml(html: string): string {
  purify ??= createDOMPurify(window);
  return purify.sanitize(html, {
    FORBID_TAGS: ['style', 'img', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'svg', 'math'],
    FORBID_ATTR: ['style', 'class', 'id'],
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
