import type { Folder, MessageSummary } from '@/hooks/use-mail';
import type { IconName } from './icons';

type Recipient = MessageSummary['toRecipients'][number];

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const long = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** the list's date column: a time today, day and month this year, the date before that */
export function listDate(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (d.toDateString() === now.toDateString()) return time.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayMonth.format(d);
  return full.format(d);
}

export function longDate(iso: string): string {
  return long.format(new Date(iso));
}

export function personName(r: Recipient | null | undefined): string {
  if (!r) return '(no sender)';
  return r.name && r.name !== r.address ? r.name : r.address;
}

export function personFull(r: Recipient): string {
  return r.name && r.name !== r.address ? `${r.name} <${r.address}>` : r.address;
}

export function recipientList(list: Recipient[]): string {
  return list.map(personFull).join(', ');
}

/** initials for the avatar circle */
export function initials(r: Recipient | null | undefined): string {
  const name = personName(r).replace(/[<>"]/g, '').trim();
  const parts = name.split(/[\s@.]+/).filter(Boolean);
  const letters = (parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts[1]?.[0] ?? '') : '');
  return letters.toUpperCase();
}

/** a stable hue per address, so a sender keeps their colour */
export function hue(address: string | undefined): number {
  let h = 0;
  for (const c of address ?? '') h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 360;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Folder icons by well-known name (decorative). */
export function folderIcon(folder: Folder): IconName {
  switch (folder.wellKnownName) {
    case 'inbox':
      return 'inbox';
    case 'sentitems':
      return 'send';
    case 'drafts':
      return 'draft';
    case 'archive':
      return 'archive';
    case 'deleteditems':
      return 'trash';
    case 'junkemail':
      return 'junk';
    case 'outbox':
      return 'outbox';
    case 'conversationhistory':
      return 'chat';
    case null:
    default:
      return 'folder';
  }
}

/** the depth of each folder in the tree (the API lists parents before children) */
export function folderDepths(folders: Folder[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const f of folders)
    depth.set(f.id, f.parentId && depth.has(f.parentId) ? depth.get(f.parentId)! + 1 : 0);
  return depth;
}

/** `RE: subject` as Outlook writes it, unless the subject already starts so (any case, `Re:`/`FW:`/`Fwd:`) */
export function prefixed(prefix: 'RE' | 'FW', subject: string): string {
  const already = prefix === 'RE' ? /^re:/i : /^(fw|fwd):/i;
  return already.test(subject.trim()) ? subject : `${prefix}: ${subject}`;
}

/** "a@b.c, Name <d@e.f>; g@h.i" → recipients; invalid entries are returned separately */
export function parseRecipients(input: string): { valid: Recipient[]; invalid: string[] } {
  const valid: Recipient[] = [];
  const invalid: string[] = [];
  for (const raw of input.split(/[,;\n]/)) {
    const part = raw.trim();
    if (!part) continue;
    const angle = /^(.*)<([^<>]+)>$/.exec(part);
    const address = (angle ? angle[2] : part).trim();
    const name = angle ? angle[1].trim().replace(/^"|"$/g, '') : '';
    if (/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(address)) valid.push({ address, name: name || address });
    else invalid.push(part);
  }
  return { valid, invalid };
}
