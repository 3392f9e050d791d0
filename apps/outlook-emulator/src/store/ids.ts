/**
 * Graph ids are opaque to clients, so the emulator encodes what it needs to find the object in the id itself:
 * nothing is stored per message for its id, which keeps a million messages small. Like Outlook without
 * `Prefer: IdType="ImmutableId"`, a message's regular id changes when it moves (the move count is part of it);
 * its immutable id does not.
 */
export const enum IdKind {
  Message = 1,
  ImmutableMessage = 2,
  Folder = 3,
  Attachment = 4,
}

export interface DecodedId {
  kind: IdKind;
  mailboxNo: number;
  serial: number;
  extra: number;
}

const PREFIX = 'AAMkAG';

export function encodeId(kind: IdKind, mailboxNo: number, serial: number, extra = 0): string {
  const buf = Buffer.allocUnsafe(12);
  buf.writeUInt8(kind, 0);
  buf.writeUInt32BE(mailboxNo >>> 0, 1);
  buf.writeUInt32BE(serial >>> 0, 5);
  buf.writeUInt16BE(extra & 0xffff, 9);
  buf.writeUInt8((kind * 31 + mailboxNo + serial + extra) & 0xff, 11);
  return PREFIX + buf.toString('base64url') + '=';
}

export function decodeId(id: string): DecodedId | undefined {
  if (!id.startsWith(PREFIX) || id.length !== PREFIX.length + 17) return undefined;
  const buf = Buffer.from(id.slice(PREFIX.length, -1), 'base64url');
  if (buf.length !== 12) return undefined;
  const kind = buf.readUInt8(0) as IdKind;
  const mailboxNo = buf.readUInt32BE(1);
  const serial = buf.readUInt32BE(5);
  const extra = buf.readUInt16BE(9);
  if (buf.readUInt8(11) !== ((kind * 31 + mailboxNo + serial + extra) & 0xff)) return undefined;
  return { kind, mailboxNo, serial, extra };
}

/** A GUID derived from a number, stable for the life of the process (user and tenant ids). */
export function guidFrom(seed: string): string {
  // FNV-1a over the seed, expanded; enough to look and parse like a GUID, deterministic for tests.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < seed.length; i++) {
    h1 = Math.imul(h1 ^ seed.charCodeAt(i), 16777619) >>> 0;
    h2 = Math.imul(h2 ^ seed.charCodeAt(i), 2246822519) >>> 0;
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  const a = hex(h1);
  const b = hex(h2);
  const c = hex(Math.imul(h1 ^ h2, 3266489917));
  const d = hex(Math.imul(h2 + 0x9e3779b9, 668265263));
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${(8 + (parseInt(c[0] ?? '0', 16) % 4)).toString(16)}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}
