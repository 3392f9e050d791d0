/**
 * CSS from a mail, made inert before it reaches the reader: nothing in it may fetch (remote images only when the
 * user allowed them for this message, never fonts or imported sheets). The text is parsed by the browser's own CSS
 * parser (a constructed stylesheet or an inline style declaration, neither of which loads anything while it is not
 * applied to a live document) and re-serialized; the URLs in the result are then found by a tokenizer that reads
 * them as the browser will (escapes and odd spellings such as `u\72l(` included, custom properties too).
 */

/** Data URLs of raster images, the only non-remote URLs a mail may use for pictures (no SVG: it can carry script). */
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]*$/i;
const REMOTE_URL = /^https?:\/\//i;

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

// ---------------------------------------------------------------------------------------------------------
// A CSS tokenizer, as far as URLs are concerned (CSS Syntax Level 3, §4)
//
// The browser re-serializes what it parsed into `url("…")`, but not everywhere: the value of a custom property
// (`--x: url(https://…)`) and any declaration holding `var()` are kept as the mail wrote them, escapes and all
// (`--x: u\72l(https://…)` is still a URL once `var(--x)` puts it in `background`). So the URLs are found the
// way the browser finds them, token by token: comments and strings are skipped whole, names are read with their
// escapes decoded, `url(` starts a URL whatever its spelling, and the image functions that take URLs as strings
// (`image-set()`, `src()`, `image()`) are judged by every URL inside them. The scan can only see more URLs than
// the browser does (a `url(` right after a number or a `#` is taken as one), never fewer.

const IMAGE_FUNCTIONS = new Set(['image-set', '-webkit-image-set', 'src', 'image']);

const isNewline = (c: string) => c === '\n' || c === '\r' || c === '\f';
const isWhitespace = (c: string) => c === ' ' || c === '\t' || isNewline(c);
/** U+0000-0008, U+000B, U+000E-001F, U+007F (css-syntax §4.2) */
const isNonPrintable = (c: string) => {
  const n = c.charCodeAt(0);
  return n <= 8 || n === 0x0b || (n >= 0x0e && n <= 0x1f) || n === 0x7f;
};
const isHex = (c: string) => /^[0-9a-f]$/i.test(c);
const isNameStart = (c: string) => /^[a-z_]$/i.test(c) || c.charCodeAt(0) >= 0x80;
const isName = (c: string) => isNameStart(c) || /^[0-9-]$/.test(c);

/** `\` at `i` followed by something that is not a newline (css-syntax §4.3.8) */
function validEscape(s: string, i: number): boolean {
  return s[i] === '\\' && i + 1 < s.length && !isNewline(s[i + 1]);
}

/** the code point of the escape at `i` (a valid one) and where it ends (css-syntax §4.3.7) */
function consumeEscape(s: string, i: number): { ch: string; next: number } {
  let j = i + 1;
  if (!isHex(s[j])) {
    const cp = s.codePointAt(j) ?? 0xfffd;
    return { ch: String.fromCodePoint(cp), next: j + (cp > 0xffff ? 2 : 1) };
  }
  let hex = '';
  while (j < s.length && hex.length < 6 && isHex(s[j])) hex += s[j++];
  if (j < s.length && isWhitespace(s[j])) j += s[j] === '\r' && s[j + 1] === '\n' ? 2 : 1;
  const cp = parseInt(hex, 16);
  const bad = cp === 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff;
  return { ch: String.fromCodePoint(bad ? 0xfffd : cp), next: j };
}

/** whether an identifier starts at `i` (css-syntax §4.3.9) */
function startsIdent(s: string, i: number): boolean {
  const c = s[i];
  if (c === '-') return isNameStart(s[i + 1] ?? '') || s[i + 1] === '-' || validEscape(s, i + 1);
  return isNameStart(c ?? '') || validEscape(s, i);
}

/** the identifier at `i` with its escapes decoded */
function consumeName(s: string, i: number): { name: string; next: number } {
  let name = '';
  let j = i;
  while (j < s.length) {
    if (isName(s[j])) name += s[j++];
    else if (validEscape(s, j)) {
      const e = consumeEscape(s, j);
      name += e.ch;
      j = e.next;
    } else break;
  }
  return { name, next: j };
}

/** the string token at `i` (a quote): its value and where it ends (before a newline that ends it unclosed) */
function consumeString(s: string, i: number): { value: string; next: number } {
  const quote = s[i];
  let value = '';
  let j = i + 1;
  while (j < s.length) {
    const c = s[j];
    if (c === quote) return { value, next: j + 1 };
    if (isNewline(c)) return { value, next: j };
    if (c === '\\') {
      if (j + 1 >= s.length) return { value, next: j + 1 };
      if (isNewline(s[j + 1])) {
        j += s[j + 1] === '\r' && s[j + 2] === '\n' ? 3 : 2;
        continue;
      }
      const e = consumeEscape(s, j);
      value += e.ch;
      j = e.next;
      continue;
    }
    value += c;
    j += 1;
  }
  return { value, next: j };
}

function skipComment(s: string, i: number): number {
  const end = s.indexOf('*/', i + 2);
  return end < 0 ? s.length : end + 2;
}

function skipWhitespace(s: string, i: number): number {
  let j = i;
  while (j < s.length && isWhitespace(s[j])) j += 1;
  return j;
}

/** just past the `)` that closes the block opened at `open`, strings, comments and escapes skipped */
function closeParen(s: string, open: number): number {
  let depth = 0;
  let j = open;
  while (j < s.length) {
    const c = s[j];
    if (c === '/' && s[j + 1] === '*') j = skipComment(s, j);
    else if (c === '"' || c === "'") j = consumeString(s, j).next;
    else if (c === '\\') j += 2;
    else {
      if (c === '(') depth += 1;
      else if (c === ')' && --depth === 0) return j + 1;
      j += 1;
    }
  }
  return s.length;
}

/**
 * `url(` ended at `afterParen`: the URL (undefined for a bad URL, which loads nothing) and where the function
 * ends. Quoted, it is the string (anything after it up to the `)` goes with it); unquoted, the URL token
 * (css-syntax §4.3.6), escapes decoded.
 */
function consumeUrl(s: string, afterParen: number): { url?: string; next: number } {
  let j = skipWhitespace(s, afterParen);
  if (s[j] === '"' || s[j] === "'") {
    return { url: consumeString(s, j).value, next: closeParen(s, afterParen - 1) };
  }
  let url = '';
  while (j < s.length) {
    const c = s[j];
    if (c === ')') return { url, next: j + 1 };
    if (isWhitespace(c)) {
      j = skipWhitespace(s, j);
      if (j >= s.length || s[j] === ')') return { url, next: Math.min(j + 1, s.length) };
      break; // bad URL
    }
    if (c === '"' || c === "'" || c === '(' || isNonPrintable(c)) break;
    if (c === '\\') {
      if (!validEscape(s, j)) break;
      const e = consumeEscape(s, j);
      url += e.ch;
      j = e.next;
      continue;
    }
    url += c;
    j += 1;
  }
  // the remnants of a bad URL, up to its `)` (css-syntax §4.3.14)
  while (j < s.length && s[j] !== ')') j += validEscape(s, j) ? consumeEscape(s, j).next - j : 1;
  return { next: Math.min(j + 1, s.length) };
}

/** every URL in `s` as the tokenizer sees it: url() arguments, and the strings of the image functions */
function urlsIn(s: string, asStrings: boolean): Array<string | undefined> {
  const urls: Array<string | undefined> = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '/' && s[i + 1] === '*') i = skipComment(s, i);
    else if (c === '"' || c === "'") {
      const str = consumeString(s, i);
      if (asStrings) urls.push(str.value);
      i = str.next;
    } else if (startsIdent(s, i)) {
      const id = consumeName(s, i);
      if (s[id.next] === '(' && id.name.toLowerCase() === 'url') {
        const u = consumeUrl(s, id.next + 1);
        urls.push(u.url);
        i = u.next;
      } else i = id.next;
    } else i += c === '\\' ? 2 : 1;
  }
  return urls;
}

/** `verdicts` of one url() or image function: kept only if every URL in it may stay; blocked ones counted */
function judge(urls: Array<string | undefined>, allowRemote: boolean, count: { blocked: number }): boolean {
  const verdicts = urls.map((u) => (u === undefined ? 'drop' : imageUrlVerdict(u, allowRemote)));
  count.blocked += verdicts.filter((v) => v === 'blocked').length;
  return verdicts.every((v) => v === 'keep');
}

/**
 * CSS text with every URL that may not load replaced by `none` (blocked remote ones counted): in `url()` however
 * it is spelled, and every image function (`image-set()`, `src()`, `image()`) with any such URL in it.
 */
export function rewriteCssUrls(css: string, allowRemote: boolean, count: { blocked: number }): string {
  let out = '';
  let i = 0;
  while (i < css.length) {
    const c = css[i];
    let next: number;
    if (c === '/' && css[i + 1] === '*') next = skipComment(css, i);
    else if (c === '"' || c === "'") next = consumeString(css, i).next;
    else if (startsIdent(css, i)) {
      const id = consumeName(css, i);
      const fn = css[id.next] === '(' ? id.name.toLowerCase() : undefined;
      if (fn === 'url') {
        const u = consumeUrl(css, id.next + 1);
        out += judge([u.url], allowRemote, count) ? css.slice(i, u.next) : 'none';
        i = u.next;
        continue;
      }
      if (fn !== undefined && IMAGE_FUNCTIONS.has(fn)) {
        const end = closeParen(css, id.next);
        const urls = urlsIn(css.slice(id.next + 1, end - 1), true);
        out += urls.length > 0 && judge(urls, allowRemote, count) ? css.slice(i, end) : 'none';
        i = end;
        continue;
      }
      next = id.next; // a name, or a function whose arguments are scanned in turn
    } else next = i + (c === '\\' ? 2 : 1);
    out += css.slice(i, next);
    i = next;
  }
  return out;
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
    out += `${rewriteCssUrls(rule.cssText.replace(FONT_FACE, ''), allowRemote, count)}\n`;
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
  const css = rewriteCssUrls(element.style.cssText, allowRemote, count);
  return { css, blocked: count.blocked };
}
