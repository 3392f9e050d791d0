const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;\\s*${TOKEN}=(?:${TOKEN}|"[^"\\\\\\r\\n]*"))*$`);

/** Graph's content type if it is a well-formed media type; anything else is served as opaque bytes. */
export function safeContentType(...candidates: Array<string | null | undefined>): string {
  for (const c of candidates) {
    const value = c?.trim();
    if (value && MEDIA_TYPE.test(value)) return value;
  }
  return 'application/octet-stream';
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<RFC 5987>`: always a download, never rendered in
 * the page, with the name as Outlook has it for clients that read `filename*` and a plain one for the rest.
 */
export function contentDisposition(name: string): string {
  // control characters (CR and LF above all) never reach a header
  const clean =
    [...name]
      .filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f)
      .join('')
      .trim() || 'attachment';
  const fallback = clean.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(clean).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
