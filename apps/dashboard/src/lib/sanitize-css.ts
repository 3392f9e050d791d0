/**
 * CSS from a mail, made inert before it reaches the reader: nothing in it may fetch (remote images only when the
 * user allowed them for this message, never fonts or imported sheets). The text is parsed by the browser's own CSS
 * parser (a constructed stylesheet or an inline style declaration, neither of which loads anything while it is not
 * applied to a live document) and re-serialized, so escapes and odd spellings (`u\72l(`) come back as plain
 * `url("…")` before the URLs are checked.
 */

/** Data URLs of raster images, the only non-remote URLs a mail may use for pictures (no SVG: it can carry script). */
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]*$/i;
const REMOTE_URL = /^https?:\/\//i;
/** `url("…")` as the CSS serializer writes it (a double-quoted string with `"` and `\` escaped) */
const SERIALIZED_URL = /url\(\s*"((?:[^"\\]|\\.)*)"\s*\)/gi;
/** `image-set()` may name images with bare strings, which the url() pass cannot see */
const IMAGE_SET = /(?:-webkit-)?image-set\([^)]*\)/gi;

export interface CssResult {
  css: string;
  /** remote URLs removed because remote images are blocked */
  blocked: number;
}

export type UrlVerdict = 'keep' | 'blocked' | 'drop';

/** What may stay in a mail: raster data images always, absolute http(s) images when allowed, nothing else. */
export function imageUrlVerdict(raw: string, allowRemote: boolean): UrlVerdict {
  const url = raw.trim();
  if (SAFE_DATA_IMAGE.test(url)) return 'keep';
  if (REMOTE_URL.test(url) || url.startsWith('//')) {
    // protocol-relative URLs would resolve against the dashboard's scheme; treat them as remote, never keep them
    return allowRemote && REMOTE_URL.test(url) ? 'keep' : 'blocked';
  }
  return 'drop';
}

function unescapeCssString(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** rewrites the URLs of already-serialized CSS text */
function rewriteUrls(serialized: string, allowRemote: boolean, count: { blocked: number }): string {
  return serialized
    .replace(IMAGE_SET, () => 'none')
    .replace(SERIALIZED_URL, (whole, raw: string) => {
      const verdict = imageUrlVerdict(unescapeCssString(raw), allowRemote);
      if (verdict === 'keep') return whole;
      if (verdict === 'blocked') count.blocked += 1;
      return 'none';
    });
}

/**
 * Inside a `<style>` element `</style>` (or `<!--`) would end the element when the document is parsed again;
 * `<` is never needed outside strings, and inside strings `\3c ` is the same character.
 */
function escapeForStyleElement(css: string): string {
  return css.replace(/</g, '\\3c ');
}

/** a serialized @font-face block (its declarations hold no braces), also when nested in @media or @supports */
const FONT_FACE = /@font-face\s*\{[^}]*\}/gi;

function serializeRules(rules: CSSRuleList, allowRemote: boolean, count: { blocked: number }): string {
  let out = '';
  for (const rule of Array.from(rules)) {
    // @import fetches a sheet and is never kept; @namespace means nothing here
    if (rule instanceof CSSImportRule || rule instanceof CSSNamespaceRule) continue;
    // fonts are never fetched, whatever the user allows: drop their rules, wherever they sit
    out += `${rewriteUrls(rule.cssText.replace(FONT_FACE, ''), allowRemote, count)}\n`;
  }
  return out;
}

/** The content of a mail's `<style>` element, inert. Unparsable rules are dropped by the parser itself. */
export function sanitizeStylesheet(text: string, allowRemote: boolean): CssResult {
  const count = { blocked: 0 };
  const sheet = new CSSStyleSheet();
  try {
    // constructed sheets refuse @import (and would say so on the console): take them out first
    sheet.replaceSync(text.replace(/@import[^;]*;?/gi, ''));
  } catch {
    return { css: '', blocked: 0 };
  }
  const css = serializeRules(sheet.cssRules, allowRemote, count);
  return { css: escapeForStyleElement(css), blocked: count.blocked };
}

/**
 * A `style` attribute's declarations, inert. `element` belongs to DOMPurify's inert document, so reading its
 * CSSOM loads nothing.
 */
export function sanitizeInlineStyle(element: HTMLElement, allowRemote: boolean): CssResult {
  const count = { blocked: 0 };
  const css = rewriteUrls(element.style.cssText, allowRemote, count);
  return { css, blocked: count.blocked };
}
