/**
 * `cid:` references of a mail's HTML (RFC 2392) and the Content-IDs of its inline attachments, made comparable:
 * the reader fetches the inline images a body names and the sanitizer puts each where its `cid:` stood.
 */

const CID_IN_HTML = /\bcid:([^\s"'<>()]+)/gi;

/**
 * A Content-ID as a lookup key: a `cid:` URL is the Content-ID, URL-encoded, without its angle brackets
 * (RFC 2392); compared without case, as mail clients do.
 */
export function contentIdKey(raw: string): string {
  let id = raw.trim().replace(/^cid:/i, '');
  try {
    id = decodeURIComponent(id);
  } catch {
    // a stray % is taken as written
  }
  return id
    .replace(/^<(.*)>$/, '$1')
    .trim()
    .toLowerCase();
}

/** The Content-IDs a mail's HTML refers to with `cid:` (as {@link contentIdKey}s, each once). */
export function cidReferences(html: string): string[] {
  const found = new Set<string>();
  for (const m of html.matchAll(CID_IN_HTML)) {
    const key = contentIdKey(m[1] ?? '');
    if (key) found.add(key);
  }
  return [...found];
}
