import { bulkMailboxFolders, DEMO_FOLDERS, DEMO_MESSAGE_COUNT, demoMessages } from './demo-mailbox';

const now = new Date('2026-12-01T12:00:00Z');
const address = 'demo@email-core.localhost';

describe('demoMessages (the demo mailbox content)', () => {
  const messages = demoMessages(address, { now });

  it('is the same for the same seed and date, and differs for another seed', () => {
    const again = demoMessages(address, { now });
    expect(again.map((m) => [m.folder.join('/'), m.mail.subject, m.mail.from, m.flags, m.date])).toEqual(
      messages.map((m) => [m.folder.join('/'), m.mail.subject, m.mail.from, m.flags, m.date]),
    );
    const other = demoMessages(address, { now, seed: 7 });
    expect(other.map((m) => m.mail.subject)).not.toEqual(messages.map((m) => m.mail.subject));
  });

  it('fills every folder with its count, a few hundred in all, nested folders included', () => {
    expect(messages).toHaveLength(DEMO_MESSAGE_COUNT);
    expect(DEMO_MESSAGE_COUNT).toBeGreaterThanOrEqual(200);
    for (const f of DEMO_FOLDERS) {
      expect(messages.filter((m) => m.folder.join('/') === f.path.join('/'))).toHaveLength(f.messages);
    }
    expect(DEMO_FOLDERS.map((f) => f.path.join('/'))).toEqual(
      expect.arrayContaining(['INBOX', 'INBOX/Projects', 'INBOX/Projects/2026', 'Archive', 'Sent', 'Drafts']),
    );
  });

  it('has threads, HTML, attachments, non-ASCII headers and flags', () => {
    const replies = messages.filter((m) => m.mail.inReplyTo);
    expect(replies.length).toBeGreaterThan(20);
    // a reply answers a message that exists, in its folder
    const ids = new Set(messages.map((m) => m.mail.messageId));
    for (const r of replies) expect(ids.has(r.mail.inReplyTo as string)).toBe(true);
    expect(messages.filter((m) => m.mail.html).length).toBeGreaterThan(30);
    expect(messages.filter((m) => m.mail.attachments?.length).length).toBeGreaterThanOrEqual(5);
    const nonAscii = (s: unknown) => [...JSON.stringify(s)].some((c) => c.charCodeAt(0) > 0x7f);
    expect(messages.some((m) => nonAscii(m.mail.subject))).toBe(true);
    expect(messages.some((m) => nonAscii(m.mail.from))).toBe(true);
    expect(messages.some((m) => m.flags.includes('\\Flagged'))).toBe(true);
    expect(messages.some((m) => !m.flags.includes('\\Seen'))).toBe(true);
    expect(messages.filter((m) => m.folder[0] === 'Drafts').every((m) => m.flags.includes('\\Draft'))).toBe(
      true,
    );
    // unique Message-IDs; Sent mail comes from the mailbox's own address
    expect(ids.size).toBe(messages.length);
    for (const m of messages.filter((x) => x.folder[0] === 'Sent')) {
      expect(m.mail.from).toEqual({ name: 'Demo User', address });
    }
  });

  it('dates every message in the past, the newest inbox mail minutes before now', () => {
    expect(messages.every((m) => m.date.getTime() <= now.getTime())).toBe(true);
    const inbox = messages.filter((m) => m.folder.join('/') === 'INBOX');
    expect(now.getTime() - Math.max(...inbox.map((m) => m.date.getTime()))).toBe(5 * 60_000);
  });
});

describe('bulkMailboxFolders + demoMessages({ folders }) (large mailboxes for sync tests and benches)', () => {
  it('spreads any total over eight folders, nested ones included, the rounding in INBOX', () => {
    for (const total of [8, 999, 5_000, 20_000]) {
      const folders = bulkMailboxFolders(total);
      expect(folders).toHaveLength(8);
      expect(folders.reduce((n, f) => n + f.messages, 0)).toBe(total);
      expect(folders.every((f) => f.messages >= 0)).toBe(true);
    }
    expect(bulkMailboxFolders(5_000).map((f) => f.path.join('/'))).toEqual([
      'INBOX',
      'INBOX/Projects',
      'INBOX/Projects/2026',
      'Archive',
      'Archive/2025',
      'Sent',
      'Receipts',
      'Lists/dev',
    ]);
  });

  it('generates exactly the folders asked for, with unread older mail where a folder keeps some', () => {
    const folders = bulkMailboxFolders(2_000);
    const messages = demoMessages(address, { now, seed: 19, folders });
    expect(messages).toHaveLength(2_000);
    for (const f of folders) {
      expect(messages.filter((m) => m.folder.join('/') === f.path.join('/'))).toHaveLength(f.messages);
    }
    const inbox = messages.filter((m) => m.folder.join('/') === 'INBOX');
    const unread = inbox.filter((m) => !m.flags.includes('\\Seen')).length;
    // a quarter of the older inbox mail stays unread (the default demo mailbox leaves only the newest unread)
    expect(unread / inbox.length).toBeGreaterThan(0.15);
    expect(unread / inbox.length).toBeLessThan(0.4);
    expect(messages.filter((m) => m.folder[0] === 'Archive').every((m) => m.flags.includes('\\Seen'))).toBe(
      true,
    );
    expect(new Set(messages.map((m) => m.mail.messageId)).size).toBe(messages.length);
    expect(messages.filter((m) => m.mail.html).length).toBeGreaterThan(400);
    expect(messages.filter((m) => m.mail.attachments?.length).length).toBeGreaterThan(50);
  });

  it('leaves the demo mailbox as it was: the folders option defaults to DEMO_FOLDERS', () => {
    const a = demoMessages(address, { now });
    const b = demoMessages(address, { now, folders: DEMO_FOLDERS });
    expect(b.map((m) => [m.mail.subject, m.flags])).toEqual(a.map((m) => [m.mail.subject, m.flags]));
  });
});
