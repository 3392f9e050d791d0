import type { FolderView } from './mail-read.types';

// the order Outlook shows its well-known folders in; everything else follows, by name
const WELL_KNOWN_ORDER = [
  'inbox',
  'drafts',
  'sentitems',
  'deleteditems',
  'junkemail',
  'archive',
  'outbox',
  'conversationhistory',
];

function siblingOrder(a: FolderView, b: FolderView): number {
  const rank = (f: FolderView) => {
    const i = f.wellKnownName ? WELL_KNOWN_ORDER.indexOf(f.wellKnownName.toLowerCase()) : -1;
    return i === -1 ? WELL_KNOWN_ORDER.length : i;
  };
  return (
    rank(a) - rank(b) ||
    a.displayName.localeCompare(b.displayName, 'en', { sensitivity: 'base' }) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Depth-first tree order (a parent always before its children, siblings well-known first then by name), with
 * `parentId` null for a folder whose parent is not in the list: Graph's top-level folders point at the hidden
 * mailbox root. A folder caught in a parent cycle (never produced by Graph) is still listed, at the end, as a root.
 */
export function orderFolderTree(folders: FolderView[]): FolderView[] {
  const byId = new Map(folders.map((f) => [f.id, f]));
  const normalised = folders.map((f) => ({
    ...f,
    parentId: f.parentId !== null && f.parentId !== f.id && byId.has(f.parentId) ? f.parentId : null,
  }));
  const children = new Map<string | null, FolderView[]>();
  for (const f of normalised) {
    const list = children.get(f.parentId) ?? [];
    list.push(f);
    children.set(f.parentId, list);
  }
  for (const list of children.values()) list.sort(siblingOrder);

  const out: FolderView[] = [];
  const seen = new Set<string>();
  const visit = (f: FolderView) => {
    if (seen.has(f.id)) return;
    seen.add(f.id);
    out.push(f);
    for (const child of children.get(f.id) ?? []) visit(child);
  };
  for (const root of children.get(null) ?? []) visit(root);
  const orphans = normalised.filter((f) => !seen.has(f.id)).sort(siblingOrder);
  for (const f of orphans) visit({ ...f, parentId: null });
  return out;
}
