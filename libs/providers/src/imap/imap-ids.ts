/**
 * The IMAP adapter's ids, opaque to everything else. A folder's id is its full mailbox path as the server names it
 * (`INBOX`, `INBOX/Projects`). A message's id is where it is: the folder, the folder's UIDVALIDITY and the message's
 * UID, so a moved message gets a new id (the port's `move` answers it).
 */
export interface ImapMessageLocation {
  path: string;
  uidValidity: bigint | number;
  uid: number;
}

export function encodeMessageId(loc: ImapMessageLocation): string {
  return `${String(loc.uidValidity)}.${loc.uid}.${Buffer.from(loc.path, 'utf8').toString('base64url')}`;
}

/** null when the id is not one of ours (then the message does not exist for this adapter) */
export function decodeMessageId(id: string): ImapMessageLocation | null {
  const m = /^(\d{1,20})\.(\d{1,10})\.([A-Za-z0-9_-]*)$/.exec(id);
  if (!m) return null;
  const uid = Number(m[2]);
  if (!Number.isSafeInteger(uid) || uid < 1) return null;
  return { uidValidity: BigInt(m[1]), uid, path: Buffer.from(m[3], 'base64url').toString('utf8') };
}
