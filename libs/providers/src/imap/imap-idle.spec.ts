import type { ImapFlow } from 'imapflow';
import {
  decodeMailboxName,
  diffFolderStatuses,
  enableNotify,
  folderStatuses,
  ImapIdleConnection,
  statusFingerprint,
} from './imap-idle';

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

describe('IMAP NOTIFY (imapflow internals, faked here; imap-idle.int-spec.ts runs it against Dovecot)', () => {
  type Handler = (untagged: { attributes?: unknown[] }) => unknown;
  const fakeClient = (capabilities: string[], answer: () => Promise<unknown>) => {
    const sent: Array<{ command: string; attributes: unknown[] }> = [];
    const client = {
      capabilities: new Map(capabilities.map((c) => [c, true])),
      usable: true,
      untaggedHandlers: {} as Record<string, Handler | undefined>,
      exec(command: string, attributes: unknown[]) {
        sent.push({ command, attributes });
        return answer();
      },
    };
    return { client, sent, imap: client as unknown as ImapFlow };
  };
  const events = () => {
    const seen: string[] = [];
    return {
      seen,
      folder: (path: string) => seen.push(`folder ${path}`),
      folderSet: () => seen.push('folderSet'),
    };
  };

  it('decodes modified UTF-7 mailbox names (and INBOX in any case)', () => {
    expect(decodeMailboxName('Archive')).toBe('Archive');
    expect(decodeMailboxName('Entw&APw-rfe')).toBe('Entwürfe');
    expect(decodeMailboxName('&ZeVnLIqe-')).toBe('日本語');
    expect(decodeMailboxName('Tom &- Jerry')).toBe('Tom & Jerry');
    expect(decodeMailboxName('inbox')).toBe('INBOX');
  });

  it('does nothing on a server without NOTIFY', async () => {
    const { client, sent, imap } = fakeClient(['IDLE'], () => Promise.resolve({ next: () => undefined }));
    await expect(enableNotify(imap, events())).resolves.toBe(false);
    expect(sent).toEqual([]);
    expect(client.untaggedHandlers).toEqual({});
  });

  it('sends NOTIFY SET for the selected and the personal folders; unsolicited STATUS and LIST become events', async () => {
    let released = 0;
    const { client, sent, imap } = fakeClient(['IDLE', 'NOTIFY'], () =>
      Promise.resolve({ next: () => released++ }),
    );
    const seen = events();
    await expect(enableNotify(imap, seen)).resolves.toBe(true);
    expect(released).toBe(1);
    const atoms = (node: unknown): unknown =>
      Array.isArray(node) ? node.map(atoms) : (node as { value: string }).value;
    expect(sent.map((s) => [s.command, atoms(s.attributes)])).toEqual([
      [
        'NOTIFY',
        [
          'SET',
          ['selected', ['MessageNew', ['UID'], 'MessageExpunge', 'FlagChange']],
          ['personal', ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName']],
        ],
      ],
    ]);
    client.untaggedHandlers.STATUS?.({ attributes: [{ type: 'ATOM', value: 'Archive' }, []] });
    client.untaggedHandlers.STATUS?.({
      attributes: [{ type: 'STRING', value: Buffer.from('Entw&APw-rfe') }, []],
    });
    client.untaggedHandlers.STATUS?.({ attributes: [] });
    client.untaggedHandlers.LIST?.({ attributes: [] });
    expect(seen.seen).toEqual(['folder Archive', 'folder Entwürfe', 'folderSet']);
  });

  it('answers false (the caller polls) when the server refuses NOTIFY, and forgets its handlers', async () => {
    const { client, imap } = fakeClient(['NOTIFY'], () => Promise.reject(new Error('BAD NOTIFY')));
    await expect(enableNotify(imap, events())).resolves.toBe(false);
    expect(client.untaggedHandlers).toEqual({});
  });

  it('answers false when imapflow no longer has the internals it uses', async () => {
    const imap = { capabilities: new Map([['NOTIFY', true]]), usable: true } as unknown as ImapFlow;
    await expect(enableNotify(imap, events())).resolves.toBe(false);
  });
});

describe('ImapIdleConnection: NOTIFY or STATUS polls (a fake imapflow session)', () => {
  type Handler = (untagged: { attributes?: unknown[] }) => unknown;
  const fakeSession = (capabilities: string[]) => {
    const calls: string[] = [];
    let stopIdle: (() => void) | undefined;
    const client = {
      capabilities: new Map(capabilities.map((c) => [c, true])),
      usable: true,
      untaggedHandlers: {} as Record<string, Handler | undefined>,
      on: () => client,
      mailboxOpen: (path: string) => {
        calls.push(`EXAMINE ${path}`);
        return Promise.resolve({});
      },
      exec: (command: string) => {
        calls.push(command);
        return Promise.resolve({ next: () => undefined });
      },
      list: () => {
        calls.push('LIST-STATUS');
        return Promise.resolve([{ path: 'Archive', flags: new Set<string>(), status: { messages: 1 } }]);
      },
      idle: () => {
        calls.push('IDLE');
        return new Promise<void>((resolve) => (stopIdle = resolve));
      },
      noop: () => Promise.resolve(),
      logout: () => {
        stopIdle?.();
        client.usable = false;
        return Promise.resolve();
      },
      close: () => undefined,
    };
    return { client, calls };
  };
  const start = async (capabilities: string[], notify?: boolean) => {
    const { client, calls } = fakeSession(capabilities);
    const changes: unknown[] = [];
    const connection = await ImapIdleConnection.start({
      server: { host: 'imap.example', port: 993, security: 'tls', username: 'u', password: 'p' },
      policy: { allowPrivateHosts: false },
      statusPollMs: 60_000,
      ...(notify === undefined ? {} : { notify }),
      onChange: (change) => changes.push(change),
      open: () => Promise.resolve(client as unknown as ImapFlow),
    });
    return { client, calls, changes, connection };
  };

  it('with NOTIFY: no STATUS baseline; an unsolicited STATUS or LIST is reported while INBOX idles', async () => {
    const { client, calls, changes, connection } = await start(['IDLE', 'NOTIFY']);
    try {
      expect(connection.notifying).toBe(true);
      expect(calls).toEqual(['EXAMINE INBOX', 'NOTIFY', 'IDLE']);
      client.untaggedHandlers.STATUS?.({ attributes: [{ type: 'ATOM', value: 'Archive' }, []] });
      client.untaggedHandlers.LIST?.({ attributes: [] });
      expect(changes).toEqual([{ kind: 'updated', folder: 'Archive' }, { kind: 'everyFolder' }]);
    } finally {
      await connection.close();
    }
    // closed: nothing more is reported
    client.untaggedHandlers.STATUS?.({ attributes: [{ type: 'ATOM', value: 'Archive' }, []] });
    expect(changes).toHaveLength(2);
  });

  it('without NOTIFY, or with it turned off: the STATUS baseline of the polls', async () => {
    for (const [capabilities, notify] of [
      [['IDLE'], undefined],
      [['IDLE', 'NOTIFY'], false],
    ] as const) {
      const { calls, connection } = await start([...capabilities], notify);
      expect(connection.notifying).toBe(false);
      expect(calls).toEqual(['EXAMINE INBOX', 'LIST-STATUS', 'IDLE']);
      await connection.close();
    }
  });
});
