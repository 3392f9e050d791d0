import type { FetchMessageObject, ListResponse } from 'imapflow';
import { decodeImapCursor, encodeImapCursor } from './imap-cursor';
import { decodeMessageId } from './imap-ids';
import { flagStatusOf, folderTree, IMAP_WATCH, toRemoteMessage } from './imap-mailbox';
import type { ImapCredentialVault } from './imap-vault';
import { ImapProvider } from './imap.provider';

const folder = (
  path: string,
  opts: { flags?: string[]; specialUse?: string; messages?: number; unseen?: number } = {},
): ListResponse => {
  const parts = path.split('/');
  return {
    path,
    pathAsListed: path,
    name: parts[parts.length - 1],
    delimiter: '/',
    parent: parts.slice(0, -1),
    parentPath: parts.slice(0, -1).join('/'),
    flags: new Set(opts.flags ?? []),
    ...(opts.specialUse ? { specialUse: opts.specialUse } : {}),
    listed: true,
    subscribed: true,
    status: { path, messages: opts.messages ?? 0, unseen: opts.unseen ?? 0 },
  };
};

describe('the IMAP mailbox reader', () => {
  it('lists selectable folders, parents first, well-known names from INBOX and SPECIAL-USE', () => {
    const tree = folderTree([
      folder('INBOX/Projects/2026', { messages: 3, unseen: 1 }),
      folder('Sent', { specialUse: '\\Sent' }),
      folder('INBOX', { messages: 12, unseen: 8 }),
      folder('Shared', { flags: ['\\Noselect'] }),
      folder('Shared/Team'),
      folder('INBOX/Projects'),
      folder('Trash', { specialUse: '\\Trash' }),
      folder('Junk', { specialUse: '\\Junk' }),
      folder('Archive', { specialUse: '\\Archive' }),
      folder('Drafts', { specialUse: '\\Drafts' }),
    ]);
    expect(tree.map((f) => [f.id, f.parentFolderId, f.wellKnownName])).toEqual([
      ['Archive', null, 'archive'],
      ['Drafts', null, 'drafts'],
      ['INBOX', null, 'inbox'],
      ['INBOX/Projects', 'INBOX', null],
      ['INBOX/Projects/2026', 'INBOX/Projects', null],
      ['Junk', null, 'junkemail'],
      ['Sent', null, 'sentitems'],
      // a \Noselect container is left out: its child hangs at the top
      ['Shared/Team', null, null],
      ['Trash', null, 'deleteditems'],
    ]);
    expect(tree.find((f) => f.id === 'INBOX/Projects/2026')).toMatchObject({
      displayName: '2026',
      totalItemCount: 3,
      unreadItemCount: 1,
    });
  });

  it('reads \\Flagged, $Completed and \\Seen back as the port writes them', () => {
    expect(flagStatusOf(new Set(['\\Flagged', '$Completed']))).toBe('flagged');
    expect(flagStatusOf(new Set(['$Completed']))).toBe('complete');
    expect(flagStatusOf(new Set(['\\Seen']))).toBe('notFlagged');
  });

  it('maps a fetched message (envelope, flags, MODSEQ, MIME) to the port message', async () => {
    const source = Buffer.from(
      [
        'From: Ada <ada@example.org>',
        'To: Bob <bob@example.org>, carol@example.org',
        'Subject: Hello there',
        'Date: Fri, 04 Dec 2026 10:00:00 +0000',
        'Message-ID: <m1@example.org>',
        'References: <root@example.org> <m0@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Hi Bob,   the   report.',
        '--b',
        'Content-Type: application/pdf; name="r.pdf"',
        'Content-Disposition: attachment; filename="r.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0=',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const msg: FetchMessageObject = {
      seq: 1,
      uid: 42,
      modseq: 1234n,
      flags: new Set(['\\Seen', '\\Flagged']),
      internalDate: new Date('2026-12-04T10:00:05Z'),
      envelope: {
        subject: 'Hello there',
        date: new Date('2026-12-04T10:00:00Z'),
        messageId: '<m1@example.org>',
        from: [{ name: 'Ada', address: 'ada@example.org' }],
        to: [{ name: 'Bob', address: 'bob@example.org' }, { address: 'carol@example.org' }],
      },
      source,
    };
    const m = await toRemoteMessage({ path: 'INBOX/Projects', uidValidity: 7n }, msg);
    expect(decodeMessageId(m.id)).toEqual({ path: 'INBOX/Projects', uidValidity: 7n, uid: 42 });
    expect(m).toMatchObject({
      folderId: 'INBOX/Projects',
      changeKey: '1234',
      subject: 'Hello there',
      from: { name: 'Ada', address: 'ada@example.org' },
      toRecipients: [
        { name: 'Bob', address: 'bob@example.org' },
        { name: 'carol@example.org', address: 'carol@example.org' },
      ],
      ccRecipients: [],
      bodyPreview: 'Hi Bob, the report.',
      body: { contentType: 'text' },
      receivedAt: '2026-12-04T10:00:05.000Z',
      sentAt: '2026-12-04T10:00:00.000Z',
      isRead: true,
      flagStatus: 'flagged',
      importance: 'normal',
      hasAttachments: true,
      // the mirror core threads it (libs/database threading.ts): the adapter hands over the headers
      conversationId: null,
      internetMessageId: '<m1@example.org>',
      inReplyTo: null,
      references: ['<root@example.org>', '<m0@example.org>'],
    });
  });

  it('writes cursors only it reads back', () => {
    const state = { p: 'INBOX', v: '7', phase: 'live' as const, m: '99', top: '120', after: 5 };
    expect(decodeImapCursor(encodeImapCursor(state))).toEqual(state);
    expect(decodeImapCursor('mem1.e30')).toBeUndefined();
    expect(decodeImapCursor(`imap1.${Buffer.from('{"p":"INBOX"}').toString('base64url')}`)).toBeUndefined();
  });

  it('is watched over its own connection (IDLE): no channels through the port, none kept after unlinking', () => {
    expect(IMAP_WATCH).toEqual({ kind: 'connection' });
    expect(Object.isFrozen(IMAP_WATCH)).toBe(true);
    const provider = new ImapProvider({
      vault: {} as ImapCredentialVault,
      policy: { allowPrivateHosts: false },
      settingsFor: () => Promise.reject(new Error('no settings in this test')),
    });
    expect(provider.watching).toBe('connection');
    expect(provider.mailbox('acc-1').watch).toBe(IMAP_WATCH);
    expect(provider.watchOfUnlinked()).toBe(IMAP_WATCH);
  });
});
