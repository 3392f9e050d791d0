import { diffFolderStatuses, folderStatuses, statusFingerprint } from './imap-idle';

const folder = (path: string, status: Record<string, unknown>, flags: string[] = []) => ({
  path,
  flags: new Set(flags),
  status: { path, ...status },
});

describe('IMAP STATUS polls', () => {
  it('fingerprints what changes with messages and flags', () => {
    const base = { messages: 3, uidNext: 10, uidValidity: 7n, highestModseq: 42n, unseen: 1 };
    expect(statusFingerprint(base)).toBe('7/3/10/42/1');
    expect(statusFingerprint({ ...base, highestModseq: 43n })).not.toBe(statusFingerprint(base));
    expect(statusFingerprint({ messages: 3, uidNext: 10 })).toBe('/3/10//');
    expect(statusFingerprint(undefined)).toBe('');
  });

  it('keeps selectable folders only, without the excluded ones', () => {
    const statuses = folderStatuses(
      [
        folder('INBOX', { messages: 1 }),
        folder('Archive', { messages: 2 }),
        folder('Parent', {}, ['\\Noselect']),
        folder('Gone', {}, ['\\NonExistent']),
      ],
      (p) => p === 'INBOX',
    );
    expect([...statuses.keys()]).toEqual(['Archive']);
  });

  it('reports the folders whose STATUS changed; every folder when the folder set changed', () => {
    const prev = new Map([
      ['Archive', '1/2/3//0'],
      ['Sent', '1/5/6//0'],
    ]);
    expect(diffFolderStatuses(prev, new Map(prev))).toEqual([]);
    expect(
      diffFolderStatuses(
        prev,
        new Map([
          ['Archive', '1/3/4//0'],
          ['Sent', '1/5/6//0'],
        ]),
      ),
    ).toEqual([{ kind: 'updated', folder: 'Archive' }]);
    expect(diffFolderStatuses(prev, new Map([['Archive', '1/2/3//0']]))).toEqual([{ kind: 'everyFolder' }]);
    expect(diffFolderStatuses(prev, new Map([...prev, ['New', '1/0/1//0']]))).toEqual([
      { kind: 'everyFolder' },
    ]);
  });
});
