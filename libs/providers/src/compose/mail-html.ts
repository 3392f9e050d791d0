import sanitizeHtml from 'sanitize-html';
import { convert } from 'html-to-text';

/**
 * The HTML a user writes (the dashboard's editor: new mail, the new text of a reply or forward, a signature), made
 * safe on the server before it is stored or sent: the browser is never trusted. An allow-list of the formatting a
 * mail needs (paragraphs, bold/italic/underline/strike, lists, links, quotes, headings, code, rules, simple tables
 * and images by http(s) or cid: address); no script, style sheet, event handler, form, frame or `javascript:` link
 * passes. Links keep only http(s) and mailto addresses and open in a new tab without the opener. Quotes get the
 * usual left rule inline (mail clients drop style sheets).
 */

const QUOTE_STYLE = 'margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'div',
    'span',
    'br',
    'b',
    'strong',
    'i',
    'em',
    'u',
    's',
    'strike',
    'del',
    'sub',
    'sup',
    'ul',
    'ol',
    'li',
    'a',
    'blockquote',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'pre',
    'code',
    'hr',
    'img',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'target', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    ol: ['start'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
    blockquote: ['style'],
  },
  allowedStyles: {
    blockquote: {
      margin: [/^[\d.]+(ex|em|px)?( [\d.]+(ex|em|px)?){0,3}$/],
      'border-left': [/^1px solid #ccc$/],
      'padding-left': [/^[\d.]+(ex|em|px)$/],
    },
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https', 'cid'] },
  allowProtocolRelative: false,
  // the content of these goes with them (the default keeps a dropped tag's text)
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head'],
  // an image without an http(s) or cid: address (a relative or data: one) shows nothing in a mail: dropped
  exclusiveFilter: (frame) => frame.tag === 'img' && !/^(https?:|cid:)/i.test(frame.attribs.src ?? ''),
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: {
        ...(attribs.href ? { href: attribs.href } : {}),
        ...(attribs.title ? { title: attribs.title } : {}),
        target: '_blank',
        rel: 'noopener noreferrer',
      },
    }),
    blockquote: (tagName) => ({ tagName, attribs: { style: QUOTE_STYLE } }),
  },
};

/** The user's HTML with everything outside the allow-list removed (see the file's comment). */
export function sanitizeMailHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}

/**
 * The plain-text alternative of an HTML body (SMTP's multipart/alternative text part): paragraphs and line breaks
 * kept, lists as "* " / "1. " items, links as "text [address]" (the address alone when it is the text), quotes
 * prefixed "> ", images by their alt text, lines wrapped at 78 characters (RFC 5322's recommendation).
 */
export function textAlternative(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkIfSameAsText: true, noAnchorUrl: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  }).trim();
}

/** True when the HTML holds nothing a reader would see (an editor's empty `<p></p>`). */
export function isBlankHtml(html: string): boolean {
  return textAlternative(html) === '' && !/<img\b/i.test(html);
}
