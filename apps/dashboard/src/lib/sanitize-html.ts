import createDOMPurify, { type Config } from 'dompurify';
import { contentIdKey } from './content-id';
import { imageUrlVerdict, sanitizeInlineStyle, sanitizeStylesheet } from './sanitize-css';

/**
 * Mail HTML, made safe to show. Three layers, each enough against script on its own:
 *
 * 1. DOMPurify with a strict allow-list: no script, no event handler, no form, no embedded content (iframe,
 *    object, media), no SVG or MathML; links only to http(s) and mailto, opened in a new tab without opener or
 *    referrer; images only from raster `data:` URLs, or from http(s) once the user allows remote images for the
 *    message. Every other URL (relative ones included: in a srcdoc frame they would resolve against the dashboard)
 *    is removed. CSS is re-serialized by the browser's parser and its URLs get the same rules (lib/sanitize-css).
 * 2. The result is rendered in an iframe sandboxed without `allow-scripts` and without `allow-same-origin`.
 * 3. The frame's document carries a Content-Security-Policy that allows no script, no fetch but images (data: only,
 *    or http(s) once allowed) and inline styles only.
 *
 * Remote content is removed by layer 1 rather than left for the CSP to refuse: a refused load still makes a console
 * error, and a tracking pixel must not even be attempted.
 *
 * The mail is parsed in a window of its own: a hidden same-origin frame of `/mail-parser.html`, whose DOMParser
 * documents hold the hostile markup while DOMPurify works on it. A document made in the dashboard's own window would
 * carry the dashboard's policy (`script-src-attr 'none'; base-uri 'none'`), under which every `onerror=` and
 * `<base>` of a mail is reported as a violation; the parser page has a policy of its own that lets nothing run or
 * load (apps/producer/src/security/security-headers.ts).
 */

export interface SanitizedMail {
  /** the body's HTML, safe to place in {@link mailDocument} */
  html: string;
  /** remote images (img src/srcset, background attributes, CSS url()) that were removed because they are blocked */
  blockedRemote: number;
}

export interface SanitizeOptions {
  allowRemoteImages: boolean;
  /**
   * the message's inline images, by Content-ID (lib/content-id's `contentIdKey`), as raster `data:` URLs: an `<img>` whose
   * `src` is `cid:<id>` shows the one named (at once: they are part of the mail, not remote); any other `cid:`
   * source is removed like every other non-data source
   */
  inlineImages?: ReadonlyMap<string, string>;
}

/** Sanitizes a mail's HTML body; remote images stay out unless `allowRemoteImages`. */
export type MailSanitizer = (html: string, options: SanitizeOptions) => SanitizedMail;

const CID = /^\s*cid:/i;

/** the page the parser frame loads (apps/dashboard/public), with the dashboard's base */
export const MAIL_PARSER_URL = `${import.meta.env.BASE_URL}mail-parser.html`;

const LINK = /^(?:https?:\/\/|mailto:)/i;

const CONFIG: Config = {
  USE_PROFILES: { html: true },
  // keep a leading <style> (mails put theirs in <head>) in the body, where it is sanitized and kept
  FORCE_BODY: true,
  FORBID_TAGS: [
    'form',
    'input',
    'button',
    'select',
    'option',
    'optgroup',
    'textarea',
    'datalist',
    'video',
    'audio',
    'source',
    'track',
    'picture',
    'dialog',
    'template',
  ],
  FORBID_ATTR: [
    'action',
    'formaction',
    'ping',
    'srcdoc',
    'poster',
    'popover',
    'popovertarget',
    'popovertargetaction',
    'command',
    'commandfor',
    'integrity',
    'nonce',
    'crossorigin',
    'autoplay',
    'download',
  ],
  ALLOW_DATA_ATTR: false,
};

/**
 * A sanitizer working in `parserWindow` (the parser frame's window; tests may pass the page's own). DOMPurify's
 * hooks belong to its instance and read the options of the call running now (sanitize is synchronous).
 */
export function createMailSanitizer(parserWindow: Window & typeof globalThis): MailSanitizer {
  const purifier = createDOMPurify(parserWindow);
  const none: ReadonlyMap<string, string> = new Map();
  let current: { allowRemote: boolean; blocked: number; inline: ReadonlyMap<string, string> } = {
    allowRemote: false,
    blocked: 0,
    inline: none,
  };

  function sanitizeSrcset(value: string, allowRemote: boolean): string | null {
    const candidates = value
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const urls = candidates.map((c) => c.split(/\s+/)[0] ?? '');
    const verdicts = urls.map((u) => imageUrlVerdict(u, allowRemote));
    if (verdicts.every((v) => v === 'keep')) return candidates.join(', ');
    current.blocked += verdicts.filter((v) => v === 'blocked').length;
    return null;
  }

  purifier.addHook('uponSanitizeElement', (node, event) => {
    if (event.tagName === 'style' && node.textContent) {
      const { css, blocked } = sanitizeStylesheet(node.textContent, current.allowRemote);
      current.blocked += blocked;
      node.textContent = css;
    }
  });

  purifier.addHook('afterSanitizeAttributes', (element) => {
    const tag = element.tagName.toLowerCase();

    if (element.hasAttribute('href')) {
      const href = element.getAttribute('href') ?? '';
      if (LINK.test(href.trim())) {
        element.setAttribute('target', '_blank');
        element.setAttribute('rel', 'noopener noreferrer');
      } else {
        // javascript:, data:, relative and fragment links: the text stays, the link goes
        element.removeAttribute('href');
        element.removeAttribute('target');
      }
    }

    const src = element.getAttribute('src');
    if (tag === 'img' && src !== null && CID.test(src)) {
      // an inline image of this mail: its data: URL (built by the reader from the attachment's bytes), else nothing
      const data = current.inline.get(contentIdKey(src));
      if (data !== undefined && imageUrlVerdict(data, false) === 'keep') element.setAttribute('src', data);
      else element.removeAttribute('src');
    } else if (element.hasAttribute('src')) {
      const verdict =
        tag === 'img' ? imageUrlVerdict(element.getAttribute('src') ?? '', current.allowRemote) : 'drop';
      if (verdict !== 'keep') {
        if (verdict === 'blocked') current.blocked += 1;
        element.removeAttribute('src');
      }
    }

    if (element.hasAttribute('srcset')) {
      const srcset =
        tag === 'img' ? sanitizeSrcset(element.getAttribute('srcset') ?? '', current.allowRemote) : null;
      if (srcset === null) element.removeAttribute('srcset');
      else element.setAttribute('srcset', srcset);
    }

    if (element.hasAttribute('background')) {
      const verdict = imageUrlVerdict(element.getAttribute('background') ?? '', current.allowRemote);
      if (verdict === 'blocked') current.blocked += 1;
      if (verdict !== 'keep') element.removeAttribute('background');
    }

    if (element.hasAttribute('style')) {
      // an element of the parser's window (instanceof is per window); anything else loses its style unread
      const sanitized =
        element instanceof parserWindow.HTMLElement
          ? sanitizeInlineStyle(element, current.allowRemote)
          : { css: '', blocked: 0 };
      current.blocked += sanitized.blocked;
      if (sanitized.css) element.setAttribute('style', sanitized.css);
      else element.removeAttribute('style');
    }
  });

  return (html, options) => {
    current = {
      allowRemote: options.allowRemoteImages,
      blocked: 0,
      inline: options.inlineImages ?? none,
    };
    try {
      const clean = purifier.sanitize(html, CONFIG);
      return { html: clean, blockedRemote: current.blocked };
    } finally {
      current = { allowRemote: false, blocked: 0, inline: none };
    }
  };
}

let parser: Promise<MailSanitizer> | undefined;

/**
 * The dashboard's mail sanitizer, once its parser frame (a hidden iframe of {@link MAIL_PARSER_URL}, made on first
 * use and kept) has loaded.
 */
export function mailSanitizer(): Promise<MailSanitizer> {
  parser ??= new Promise<MailSanitizer>((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.src = MAIL_PARSER_URL;
    frame.title = 'Mail parser';
    frame.hidden = true;
    frame.tabIndex = -1;
    frame.setAttribute('aria-hidden', 'true');
    frame.addEventListener(
      'load',
      () => {
        const win = frame.contentWindow as (Window & typeof globalThis) | null;
        // the page itself, not an error answer in its place
        if (win?.document.title === 'Mail parser') resolve(createMailSanitizer(win));
        else {
          parser = undefined;
          frame.remove();
          reject(new Error(`the mail parser page ${MAIL_PARSER_URL} did not load`));
        }
      },
      { once: true },
    );
    document.body.append(frame);
  });
  return parser;
}

/** The frame's own policy: no script, nothing fetched but the images the sanitizer let through, inline CSS only. */
export function mailCsp(allowRemoteImages: boolean): string {
  const images = allowRemoteImages ? 'data: https: http:' : 'data:';
  return `default-src 'none'; img-src ${images}; style-src 'unsafe-inline'`;
}

/**
 * The srcdoc of the reader's frame. The mail keeps its own look (light background, as it was written), with a few
 * defaults so a plain layout reads well and wide content cannot push the frame sideways.
 */
export function mailDocument(bodyHtml: string, allowRemoteImages: boolean): string {
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${mailCsp(allowRemoteImages)}">
<meta name="referrer" content="no-referrer">
<style>
html{color-scheme:light}
body{margin:0;padding:16px 20px;font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c2128;background:#fff;overflow-wrap:anywhere}
img{max-width:100%;height:auto}
table{max-width:100%}
pre{white-space:pre-wrap}
a[href]{color:#2f6fde}
blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #d8dde4;color:#5b6472}
</style></head><body>${bodyHtml}</body></html>`;
}
