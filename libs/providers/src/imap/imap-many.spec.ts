import type { ImapFlow } from 'imapflow';
import { ProviderUnavailableError, type ManyIdsResult, type ProviderRefusedError } from '../port';
import { applyToMany, uidSets } from './imap-many';
import { decodeMessageId, encodeMessageId } from './imap-ids';

interface FakeMessage {
  uid: number;
  messageId: string;
  flags: Set<string>;
  headers?: string;
}

interface FakeFolder {
  path: string;
  uidValidity: bigint;
  uidNext: number;
  specialUse?: string;
  messages: FakeMessage[];
}

/** The UIDs a uid-set names (numbers and ranges; no `*`). */
function expand(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':').map(Number);
    for (let u = Math.min(a, b); u <= Math.max(a, b); u++) out.push(u);
  }
  return out;
}

/**
 * The part of ImapFlow the set actions use, over folders in memory, recording each IMAP command as the server would
 * see it. Without MOVE it does what imapflow does (COPY, then `\Deleted` + UID EXPUNGE); without UIDPLUS no COPYUID.
 */
class FakeImap {
  readonly capabilities = new Map<string, boolean>([
    ['MOVE', true],
    ['UIDPLUS', true],
  ]);
  usable = true;
  mailbox: { path: string; uidValidity: bigint; permanentFlags: Set<string> } | false = false;
  readonly commands: string[] = [];
  /** uid-sets (more than one UID) the server answers NO to */
  refuseSets = false;
  /** UIDs the server answers NO to */
  readonly refuseUids = new Set<number>();
  /** the UIDs that vanish (another client) right before the next move */
  vanishBeforeMove: number[] = [];
  readonly folders = new Map<string, FakeFolder>();

  folder(path: string, uidValidity: number, messages: number, specialUse?: string): FakeFolder {
    const f: FakeFolder = { path, uidValidity: BigInt(uidValidity), uidNext: 1, specialUse, messages: [] };
    this.folders.set(path, f);
    for (let i = 0; i < messages; i++) this.add(f, `<${path}-${i}@test>`);
    return f;
  }

  add(f: FakeFolder, messageId: string, headers?: string): FakeMessage {
    const m = { uid: f.uidNext++, messageId, flags: new Set<string>(), headers };
    f.messages.push(m);
    return m;
  }

  idOf(f: FakeFolder, m: FakeMessage): string {
    return encodeMessageId({ path: f.path, uidValidity: f.uidValidity, uid: m.uid });
  }

  private selected(): FakeFolder {
    if (!this.mailbox) throw new Error('nothing selected');
    return this.folders.get(this.mailbox.path)!;
  }

  private refused(set: string): boolean {
    return (this.refuseSets && expand(set).length > 1) || expand(set).some((u) => this.refuseUids.has(u));
  }

  list() {
    return Promise.resolve(
      [...this.folders.values()].map((f) => ({
        path: f.path,
        specialUse: f.specialUse,
        specialUseSource: f.specialUse ? 'extension' : undefined,
        flags: new Set<string>(),
      })),
    );
  }

  async getMailboxLock(path: string) {
    await Promise.resolve();
    const f = this.folders.get(path);
    if (!f) throw Object.assign(new Error('no such mailbox'), { responseStatus: 'NO', mailboxMissing: true });
    this.commands.push(`SELECT ${path}`);
    this.mailbox = { path, uidValidity: f.uidValidity, permanentFlags: new Set(['\\*']) };
    return { release: () => undefined };
  }

  async status(path: string) {
    await Promise.resolve();
    const f = this.folders.get(path);
    this.commands.push(`STATUS ${path}`);
    return f ? { path, uidNext: f.uidNext, uidValidity: f.uidValidity } : false;
  }

  async search(query: { uid?: string; header?: Record<string, unknown> }) {
    await Promise.resolve();
    const f = this.selected();
    if (query.uid !== undefined) {
      this.commands.push(`UID SEARCH UID ${query.uid}`);
      const wanted = new Set(expand(query.uid));
      return f.messages.filter((m) => wanted.has(m.uid)).map((m) => m.uid);
    }
    const name = Object.keys(query.header ?? {})[0];
    this.commands.push(`UID SEARCH HEADER ${name}`);
    return f.messages
      .filter((m) => m.headers?.toLowerCase().startsWith(`${name.toLowerCase()}:`))
      .map((m) => m.uid);
  }

  async *fetch(range: string, query: { headers?: string[] }) {
    await Promise.resolve();
    const f = this.selected();
    this.commands.push(`UID FETCH ${range}`);
    const open = range.endsWith(':*') ? Number(range.slice(0, -2)) : undefined;
    const wanted = open === undefined ? new Set(expand(range)) : undefined;
    for (const m of f.messages) {
      if (wanted ? !wanted.has(m.uid) : m.uid < open!) continue;
      yield {
        uid: m.uid,
        envelope: { messageId: m.messageId },
        ...(query.headers ? { headers: Buffer.from(`${m.headers ?? ''}\r\n`) } : {}),
      };
    }
  }

  messageFlagsAdd(range: string, flags: string[]) {
    return Promise.resolve(this.store(range, flags, '+'));
  }

  messageFlagsRemove(range: string, flags: string[]) {
    return Promise.resolve(this.store(range, flags, '-'));
  }

  private store(range: string, flags: string[], op: '+' | '-'): boolean {
    this.commands.push(`UID STORE ${range} ${op}FLAGS (${flags.join(' ')})`);
    if (this.refused(range)) return false;
    const wanted = new Set(expand(range));
    for (const m of this.selected().messages) {
      if (!wanted.has(m.uid)) continue;
      for (const flag of flags) {
        if (op === '+') m.flags.add(flag);
        else m.flags.delete(flag);
      }
    }
    return true;
  }

  async messageDelete(range: string) {
    await Promise.resolve();
    if (!this.store(range, ['\\Deleted'], '+')) return false;
    this.commands.push(`UID EXPUNGE ${range}`);
    const f = this.selected();
    f.messages = f.messages.filter((m) => !m.flags.has('\\Deleted'));
    return true;
  }

  async messageCopy(range: string, destination: string) {
    await Promise.resolve();
    this.commands.push(`UID COPY ${range} ${destination}`);
    if (this.refused(range)) return false;
    return this.copy(range, destination);
  }

  async messageMove(range: string, destination: string) {
    for (const uid of this.vanishBeforeMove.splice(0)) {
      const f = this.selected();
      f.messages = f.messages.filter((m) => m.uid !== uid);
    }
    if (!this.capabilities.has('MOVE')) {
      // imapflow's fallback: COPY, then \Deleted + UID EXPUNGE of the same set
      const copied = await this.messageCopy(range, destination);
      if (!copied) return copied;
      return (await this.messageDelete(range)) ? copied : false;
    }
    this.commands.push(`UID MOVE ${range} ${destination}`);
    if (this.refused(range)) return false;
    const map = this.copy(range, destination);
    const wanted = new Set(expand(range));
    const f = this.selected();
    f.messages = f.messages.filter((m) => !wanted.has(m.uid));
    return map;
  }

  private copy(range: string, destination: string) {
    const dest = this.folders.get(destination)!;
    const wanted = new Set(expand(range));
    const uidMap = new Map<number, number>();
    for (const m of this.selected().messages.filter((x) => wanted.has(x.uid))) {
      uidMap.set(m.uid, this.add(dest, m.messageId).uid);
    }
    if (!this.capabilities.has('UIDPLUS')) return { path: this.selected().path, destination };
    return { path: this.selected().path, destination, uidValidity: dest.uidValidity, uidMap };
  }
}

const client = (fake: FakeImap) => fake as unknown as ImapFlow;
const moves = (fake: FakeImap) => fake.commands.filter((c) => /^UID (MOVE|COPY)/.test(c));
const notFound = (id: string): ManyIdsResult => ({
  id,
  ok: false,
  error: expect.objectContaining({ status: 404 }) as ProviderRefusedError,
});

describe('uid-sets', () => {
  it('compacts sorted distinct UIDs into ranges, at most 500 UIDs a set', () => {
    expect(uidSets([52, 3, 1, 2, 40, 39, 38, 2])).toEqual(['1:3,38:40,52']);
    expect(uidSets([7])).toEqual(['7']);
    expect(uidSets([])).toEqual([]);
    const many = Array.from({ length: 1200 }, (_, i) => i + 1);
    expect(uidSets(many)).toEqual(['1:500', '501:1000', '1001:1200']);
    const odd = Array.from({ length: 501 }, (_, i) => 2 * i + 1);
    const sets = uidSets(odd);
    expect(sets).toHaveLength(2);
    expect(sets[1]).toBe('1001');
  });
});

describe('applyToMany (a faked IMAP client)', () => {
  function mailbox() {
    const fake = new FakeImap();
    const inbox = fake.folder('INBOX', 11, 700, '\\Inbox');
    const projects = fake.folder('Projects', 22, 30);
    const archive = fake.folder('Archive', 33, 5, '\\Archive');
    const trash = fake.folder('Trash', 44, 0, '\\Trash');
    return { fake, inbox, projects, archive, trash };
  }

  it('moves many UIDs of two folders with one UID MOVE per folder and 500 UIDs; new ids from COPYUID', async () => {
    const { fake, inbox, projects, archive } = mailbox();
    const fromInbox = inbox.messages.slice(0, 600);
    const fromProjects = projects.messages.filter((m) => m.uid % 2 === 0);
    const ids = [
      ...fromInbox.map((m) => fake.idOf(inbox, m)),
      ...fromProjects.map((m) => fake.idOf(projects, m)),
    ];

    const results = await applyToMany(client(fake), ids, { action: 'move', destinationId: 'archive' });

    expect(moves(fake)).toEqual([
      'UID MOVE 1:500 Archive',
      'UID MOVE 501:600 Archive',
      'UID MOVE 2,4,6,8,10,12,14,16,18,20,22,24,26,28,30 Archive',
    ]);
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(results.every((r) => r.ok)).toBe(true);
    // each id's new id is where its message is in Archive now
    for (const r of results) {
      if (!r.ok) continue;
      const now = decodeMessageId(r.now!.id)!;
      expect(r.now!.parentFolderId).toBe('Archive');
      expect(now.uidValidity).toBe(33n);
      const there = archive.messages.find((m) => m.uid === now.uid)!;
      const was = decodeMessageId(r.id)!;
      expect(there.messageId).toBe(`<${was.path}-${was.uid - 1}@test>`);
    }
    expect(inbox.messages).toHaveLength(100);
    expect(projects.messages).toHaveLength(15);
    expect(archive.messages).toHaveLength(5 + 600 + 15);
  });

  it('an id already gone, a stale UIDVALIDITY, a folder gone and an id that does not decode are 404s; the rest done', async () => {
    const { fake, inbox, archive } = mailbox();
    const ids = inbox.messages.slice(0, 5).map((m) => fake.idOf(inbox, m));
    inbox.messages.splice(1, 1); // ids[1] expunged by another client
    const stale = encodeMessageId({ path: 'INBOX', uidValidity: 10n, uid: 3 });
    const nowhere = encodeMessageId({ path: 'Gone', uidValidity: 1n, uid: 1 });
    const all = [...ids, stale, nowhere, 'not-an-id'];

    const results = await applyToMany(client(fake), all, { action: 'move', destinationId: 'Archive' });

    expect(moves(fake)).toEqual(['UID MOVE 1,3:5 Archive']);
    expect(results).toEqual([
      expect.objectContaining({ id: ids[0], ok: true }),
      notFound(ids[1]),
      expect.objectContaining({ id: ids[2], ok: true }),
      expect.objectContaining({ id: ids[3], ok: true }),
      expect.objectContaining({ id: ids[4], ok: true }),
      notFound(stale),
      notFound(nowhere),
      notFound('not-an-id'),
    ]);
    expect(archive.messages).toHaveLength(9);
  });

  it('a UID that vanishes between the look-up and the MOVE (COPYUID without it) is a 404, not a failure of the set', async () => {
    const { fake, inbox } = mailbox();
    const ids = inbox.messages.slice(0, 3).map((m) => fake.idOf(inbox, m));
    fake.vanishBeforeMove = [2];
    const results = await applyToMany(client(fake), ids, { action: 'move', destinationId: 'Archive' });
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]).toEqual(notFound(ids[1]));
  });

  it('without MOVE: imapflow copies, then \\Deleted + UID EXPUNGE, by set; new ids from COPY’s COPYUID', async () => {
    const { fake, inbox, projects, archive } = mailbox();
    fake.capabilities.delete('MOVE');
    const ids = [
      ...inbox.messages.slice(10, 20).map((m) => fake.idOf(inbox, m)),
      fake.idOf(projects, projects.messages[0]),
    ];
    const results = await applyToMany(client(fake), ids, { action: 'move', destinationId: 'Archive' });
    expect(fake.commands.filter((c) => /^UID (COPY|STORE|EXPUNGE|MOVE)/.test(c))).toEqual([
      'UID COPY 11:20 Archive',
      'UID STORE 11:20 +FLAGS (\\Deleted)',
      'UID EXPUNGE 11:20',
      'UID COPY 1 Archive',
      'UID STORE 1 +FLAGS (\\Deleted)',
      'UID EXPUNGE 1',
    ]);
    expect(results.every((r) => r.ok && r.now?.parentFolderId === 'Archive')).toBe(true);
    expect(archive.messages).toHaveLength(16);
    expect(inbox.messages.some((m) => m.uid >= 11 && m.uid <= 20)).toBe(false);
  });

  it('without UIDPLUS (no COPYUID): the new UIDs found in the destination by Message-ID', async () => {
    const { fake, inbox, archive } = mailbox();
    fake.capabilities.delete('UIDPLUS');
    const ids = inbox.messages.slice(0, 4).map((m) => fake.idOf(inbox, m));
    const results = await applyToMany(client(fake), ids, { action: 'move', destinationId: 'Archive' });
    expect(fake.commands).toContain('UID FETCH 6:*');
    for (const [i, r] of results.entries()) {
      expect(r.ok).toBe(true);
      const uid = decodeMessageId(r.ok ? r.now!.id : '')!.uid;
      expect(archive.messages.find((m) => m.uid === uid)?.messageId).toBe(`<INBOX-${i}@test>`);
    }
  });

  it('without UIDPLUS, a moved message not found in the destination is a transient failure (as the one-id move)', async () => {
    const { fake, inbox, archive } = mailbox();
    fake.capabilities.delete('UIDPLUS');
    const ids = inbox.messages.slice(0, 2).map((m) => fake.idOf(inbox, m));
    const move = fake.messageMove.bind(fake);
    fake.messageMove = async (range: string, dest: string) => {
      const r = await move(range, dest);
      archive.messages.splice(5); // the copies vanish at once
      return r;
    };
    await expect(
      applyToMany(client(fake), ids, { action: 'move', destinationId: 'Archive' }),
    ).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('a set the server refuses is done again one UID at a time: only the refused UID fails', async () => {
    const { fake, inbox } = mailbox();
    fake.refuseSets = true;
    fake.refuseUids.add(2);
    const ids = inbox.messages.slice(0, 3).map((m) => fake.idOf(inbox, m));
    const results = await applyToMany(client(fake), ids, { action: 'markRead', isRead: true });
    expect(fake.commands.filter((c) => c.startsWith('UID STORE'))).toEqual([
      'UID STORE 1:3 +FLAGS (\\Seen)',
      'UID STORE 1 +FLAGS (\\Seen)',
      'UID STORE 2 +FLAGS (\\Seen)',
      'UID STORE 3 +FLAGS (\\Seen)',
    ]);
    expect(results).toEqual([
      { id: ids[0], ok: true },
      { id: ids[1], ok: false, error: expect.objectContaining({ status: 400, code: 'IMAP_NO' }) as Error },
      { id: ids[2], ok: true },
    ]);
    expect(inbox.messages.slice(0, 3).map((m) => m.flags.has('\\Seen'))).toEqual([true, false, true]);
  });

  it('read, unread and flags by set: one UID STORE per folder and flag change', async () => {
    const { fake, inbox, projects } = mailbox();
    const ids = [
      ...inbox.messages.slice(0, 3).map((m) => fake.idOf(inbox, m)),
      fake.idOf(projects, projects.messages[4]),
    ];
    await applyToMany(client(fake), ids, { action: 'flag', flagStatus: 'complete' });
    expect(fake.commands.filter((c) => c.startsWith('UID STORE'))).toEqual([
      'UID STORE 1:3 -FLAGS (\\Flagged)',
      'UID STORE 1:3 +FLAGS ($Completed)',
      'UID STORE 5 -FLAGS (\\Flagged)',
      'UID STORE 5 +FLAGS ($Completed)',
    ]);
    fake.commands.length = 0;
    const results = await applyToMany(client(fake), ids, { action: 'markRead', isRead: false });
    expect(fake.commands.filter((c) => c.startsWith('UID STORE'))).toEqual([
      'UID STORE 1:3 -FLAGS (\\Seen)',
      'UID STORE 5 -FLAGS (\\Seen)',
    ]);
    expect(results).toEqual(ids.map((id) => ({ id, ok: true })));
  });

  it('deletes by set: to Trash (new ids there), from Trash for good (null); a draft rebuilt under a new UID found by its first id', async () => {
    const { fake, inbox, trash } = mailbox();
    const ids = inbox.messages.slice(0, 3).map((m) => fake.idOf(inbox, m));
    const toTrash = await applyToMany(client(fake), ids, { action: 'delete' });
    expect(moves(fake)).toEqual(['UID MOVE 1:3 Trash']);
    expect(toTrash.map((r) => r.ok && r.now?.parentFolderId)).toEqual(['Trash', 'Trash', 'Trash']);

    // a draft: its first id's UID is gone, the rebuilt version carries the header
    const draftId = fake.idOf(trash, { uid: 999, messageId: '', flags: new Set() });
    const rebuilt = fake.add(trash, '<draft@test>', `X-Email-Core-Draft-Id: ${draftId}`);
    fake.commands.length = 0;
    const inTrash = [...toTrash.map((r) => (r.ok ? r.now!.id : '')), draftId];
    const gone = await applyToMany(client(fake), inTrash, { action: 'delete' });
    expect(rebuilt.uid).toBe(4);
    expect(fake.commands.filter((c) => /^UID (EXPUNGE|MOVE)/.test(c))).toEqual(['UID EXPUNGE 1:4']);
    expect(gone).toEqual(inTrash.map((id) => ({ id, ok: true, now: null })));
    expect(trash.messages).toEqual([]);

    // already gone: a 404 for each (the consumer counts it done for a delete)
    expect(await applyToMany(client(fake), [inTrash[0]], { action: 'delete' })).toEqual([
      notFound(inTrash[0]),
    ]);
  });

  it('a move to a missing folder is refused as a whole; a move to where the message is keeps its id', async () => {
    const { fake, inbox } = mailbox();
    const id = fake.idOf(inbox, inbox.messages[0]);
    await expect(
      applyToMany(client(fake), [id], { action: 'move', destinationId: 'No such folder' }),
    ).rejects.toMatchObject({ status: 404 });
    expect(await applyToMany(client(fake), [id], { action: 'move', destinationId: 'INBOX' })).toEqual([
      { id, ok: true, now: { id, parentFolderId: 'INBOX' } },
    ]);
    expect(moves(fake)).toEqual([]);
  });

  it('stops between sets when the command is aborted', async () => {
    const { fake, inbox } = mailbox();
    const controller = new AbortController();
    const ids = inbox.messages.slice(0, 700).map((m) => fake.idOf(inbox, m));
    const move = fake.messageMove.bind(fake);
    fake.messageMove = async (range: string, dest: string) => {
      controller.abort(new Error('lease lost'));
      return move(range, dest);
    };
    await expect(
      applyToMany(client(fake), ids, { action: 'move', destinationId: 'Archive' }, controller.signal),
    ).rejects.toThrow('lease lost');
    expect(moves(fake)).toEqual(['UID MOVE 1:500 Archive']);
  });
});
