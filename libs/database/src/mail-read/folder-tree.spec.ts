import { orderFolderTree } from './folder-tree';
import type { FolderView } from './mail-read.types';

const folder = (id: string, parentId: string | null, overrides: Partial<FolderView> = {}): FolderView => ({
  id,
  parentId,
  displayName: id,
  wellKnownName: null,
  totalCount: 0,
  unreadCount: 0,
  ...overrides,
});

describe('orderFolderTree', () => {
  it('puts parents before children, well-known folders first, others by name; hidden root becomes null', () => {
    const ordered = orderFolderTree([
      folder('zeta', 'root'),
      folder('projects-b', 'inbox', { displayName: 'beta' }),
      folder('sent', 'root', { wellKnownName: 'sentitems' }),
      folder('projects-a', 'inbox', { displayName: 'Alpha' }),
      folder('inbox', 'root', { wellKnownName: 'inbox' }),
      folder('deep', 'projects-a'),
      folder('archive', 'root', { displayName: 'Archive' }),
    ]);
    expect(ordered.map((f) => [f.id, f.parentId])).toEqual([
      ['inbox', null],
      ['projects-a', 'inbox'],
      ['deep', 'projects-a'],
      ['projects-b', 'inbox'],
      ['sent', null],
      ['archive', null],
      ['zeta', null],
    ]);
  });

  it('keeps every folder even in a parent cycle, each listed once', () => {
    const ordered = orderFolderTree([
      folder('a', 'b'),
      folder('b', 'a'),
      folder('self', 'self'),
      folder('r', null),
    ]);
    expect(ordered.map((f) => f.id).sort()).toEqual(['a', 'b', 'r', 'self']);
    expect(ordered.find((f) => f.id === 'self')?.parentId).toBeNull();
    const a = ordered.findIndex((f) => f.id === 'a');
    const b = ordered.findIndex((f) => f.id === 'b');
    expect(ordered[Math.min(a, b)]?.parentId).toBeNull();
  });

  it('keeps counts and names untouched', () => {
    const f = folder('inbox', null, {
      totalCount: 7,
      unreadCount: 3,
      displayName: 'Inbox',
      wellKnownName: 'inbox',
    });
    expect(orderFolderTree([f])).toEqual([f]);
  });
});
