import type { MessageCursorKey } from './mail-read.types';

// received_at as Postgres renders it with to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'): microseconds kept, so
// two messages a few microseconds apart never collapse onto one cursor position
const RECEIVED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const MAX_ID_LENGTH = 1024;

/** The opaque page cursor: base64url of the JSON `[receivedAt, id]` of the last row of the previous page. */
export function encodeMessageCursor(key: MessageCursorKey): string {
  return Buffer.from(JSON.stringify([key.receivedAt, key.id]), 'utf8').toString('base64url');
}

/** The key a cursor names, or null for anything this API did not produce (the caller answers 400). */
export function decodeMessageCursor(cursor: string): MessageCursorKey | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [receivedAt, id] = parsed as unknown[];
  if (typeof receivedAt !== 'string' || !RECEIVED_AT.test(receivedAt)) return null;
  // the shape alone lets 2024-02-30 through, which Postgres would refuse: the instant must round-trip
  const ms = Date.parse(receivedAt);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== receivedAt.slice(0, 19)) return null;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return null;
  return { receivedAt, id };
}
