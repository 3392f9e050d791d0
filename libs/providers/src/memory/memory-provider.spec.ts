import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
  type ChangesPage,
  type Mailbox,
} from '../port';
import { ProviderRegistry } from '../registry';
import type { MemoryDelivery, MemoryLifecycleDelivery } from './memory-provider';
import type { MemoryMailboxClient } from './memory-mailbox-client';
import { MemoryProvider } from './memory-provider';

/** Every page of a folder from `from` to its cursor. */
async function readAll(
  mailbox: Mailbox,
  from: { folderId: string } | { cursor: string },
  pageSize: number,
): Promise<{ pages: ChangesPage[]; cursor: string }> {
  const pages: ChangesPage[] = [];
  let next = from;
  for (;;) {
    const page = await mailbox.changes(next, pageSize);
    pages.push(page);
    if (page.cursor !== undefined) return { pages, cursor: page.cursor };
    expect(page.nextCursor).toBeDefined();
    next = { cursor: page.nextCursor as string };
  }
}

const ids = (pages: ChangesPage[]) => pages.flatMap((p) => p.messages.map((m) => m.id)).sort();
const removed = (pages: ChangesPage[]) => pages.flatMap((p) => p.removedIds).sort();

describe('MemoryProvider (the in-memory adapter of the provider port)', () => {
  let provider: MemoryProvider;
  let mailbox: MemoryMailboxClient;
  const account = 'acct-1';

  beforeEach(() => {
    provider = new MemoryProvider();
    provider.createMailbox(account, 'ann@memory.example');
    mailbox = provider.mailbox(account);
  });

  const box = () => provider.mailboxOf(account);
  const folder = (wk: string) => box().findFolder(wk)?.id as string;

  it('registers under its name, and lists the folder tree parents first with the counts', async () => {
    expect(
      new ProviderRegistry([provider], ['memory']).mailbox({ id: account, provider: 'memory' }),
    ).toBeDefined();
    const projects = box().addFolder({ displayName: 'Projects', parentId: folder('inbox') });
    const nested = box().addFolder({ displayName: '2026', parentId: projects.id });
    box().add(folder('inbox'), { isRead: true });
    box().add(projects.id);
    box().add(nested.id);
    box().add(nested.id, { isRead: true });

    const tree = await mailbox.listFolderTree();
    expect(tree.map((f) => f.displayName)).toEqual([
      'Inbox',
      'Projects',
      '2026',
      'Drafts',
      'Sent Items',
      'Deleted Items',
      'Archive',
    ]);
    const seen = new Set<string | null>([null]);
    for (const f of tree) {
      expect(seen.has(f.parentFolderId)).toBe(true); // a parent comes before its children
      seen.add(f.id);
    }
    expect(tree.find((f) => f.id === nested.id)).toMatchObject({
      parentFolderId: projects.id,
      totalItemCount: 2,
      unreadItemCount: 1,
    });
    expect(tree.find((f) => f.wellKnownName === 'inbox')).toMatchObject({
      totalItemCount: 1,
      unreadItemCount: 0,
    });
  });

  it('reads a folder from scratch in pages, then only what changed since its cursor', async () => {
    const inbox = folder('inbox');
    const archive = folder('archive');
    const first = Array.from({ length: 23 }, (_v, i) => box().add(inbox, { subject: `m${i}` }));
    const scratch = await readAll(mailbox, { folderId: inbox }, 7);
    expect(scratch.pages).toHaveLength(4);
    expect(ids(scratch.pages)).toEqual(first.map((m) => m.id).sort());
    expect(scratch.pages[0].messages[0]).toMatchObject({
      folderId: inbox,
      subject: expect.stringMatching(/^m\d+$/) as unknown,
      bodyPreview: expect.stringContaining('kept in memory') as unknown,
      hasAttachments: false,
    });

    // nothing changed: an empty page and the same position
    const idle = await readAll(mailbox, { cursor: scratch.cursor }, 7);
    expect(idle.pages).toEqual([{ messages: [], removedIds: [], cursor: expect.any(String) as unknown }]);

    const added = box().add(inbox, { subject: 'new' });
    box().update(first[0].id, { isRead: true });
    box().update(first[0].id, { subject: 'changed twice' });
    box().delete(first[1].id);
    box().move(first[2].id, archive);
    const created = box().add(inbox);
    box().delete(created.id); // created and gone before the read: reported removed, which the mirror ignores

    const delta = await readAll(mailbox, { cursor: idle.cursor }, 2);
    expect(ids(delta.pages)).toEqual([added.id, first[0].id].sort());
    expect(delta.pages.flatMap((p) => p.messages).find((m) => m.id === first[0].id)).toMatchObject({
      subject: 'changed twice',
      isRead: true,
      changeKey: box().get(first[0].id).changeKey,
    });
    expect(removed(delta.pages)).toEqual([first[1].id, first[2].id, created.id].sort());

    // the moved message keeps its id and shows up in its new folder's changes
    const archived = await readAll(mailbox, { folderId: archive }, 10);
    expect(ids(archived.pages)).toEqual([first[2].id]);
    expect(archived.pages[0].messages[0].folderId).toBe(archive);
  });

  it('a round sees the folder as it was when it started: later changes wait for the next round', async () => {
    const inbox = folder('inbox');
    for (let i = 0; i < 4; i++) box().add(inbox);
    const start = await readAll(mailbox, { folderId: inbox }, 10);
    const changed = Array.from({ length: 3 }, () => box().add(inbox));
    const page1 = await mailbox.changes({ cursor: start.cursor }, 2);
    const late = box().add(inbox, { subject: 'during the round' });
    const rest = await readAll(mailbox, { cursor: page1.nextCursor as string }, 2);
    expect(ids([page1, ...rest.pages])).toEqual(changed.map((m) => m.id).sort());
    expect(ids((await readAll(mailbox, { cursor: rest.cursor }, 10)).pages)).toEqual([late.id]);
  });

  it('an expired cursor raises CursorLostError (a final one and a page in progress); from scratch works', async () => {
    const inbox = folder('inbox');
    for (let i = 0; i < 5; i++) box().add(inbox);
    const done = await readAll(mailbox, { folderId: inbox }, 10);
    const midway = (await mailbox.changes({ folderId: inbox }, 2)).nextCursor as string;
    const other = await readAll(mailbox, { folderId: folder('archive') }, 10);

    box().expireCursors(inbox);
    await expect(mailbox.changes({ cursor: done.cursor })).rejects.toBeInstanceOf(CursorLostError);
    await expect(mailbox.changes({ cursor: midway })).rejects.toBeInstanceOf(CursorLostError);
    // another folder's cursor still works, and the folder reads again from scratch
    await expect(mailbox.changes({ cursor: other.cursor })).resolves.toMatchObject({ messages: [] });
    expect(ids((await readAll(mailbox, { folderId: inbox }, 10)).pages)).toHaveLength(5);

    box().expireCursors(); // every folder
    await expect(mailbox.changes({ cursor: other.cursor })).rejects.toBeInstanceOf(CursorLostError);
    await expect(mailbox.changes({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ status: 400 });
  });

  it('applies read, flag, move and delete to the mailbox; a missing message or folder is a 404 refusal', async () => {
    const inbox = folder('inbox');
    const m = box().add(inbox);
    await mailbox.setRead(m.id, true);
    await mailbox.setFlag(m.id, 'flagged');
    expect(box().get(m.id)).toMatchObject({ isRead: true, flagStatus: 'flagged' });
    expect(await mailbox.move(m.id, 'archive')).toEqual({ id: m.id, parentFolderId: folder('archive') });
    expect(await mailbox.folderOf(m.id)).toBe(folder('archive'));
    await mailbox.delete(m.id);
    expect(await mailbox.folderOf(m.id)).toBeNull();

    const refusal = (p: Promise<unknown>) =>
      expect(p).rejects.toEqual(expect.objectContaining({ status: 404 }) as unknown);
    await refusal(mailbox.setRead(m.id, false));
    await refusal(mailbox.delete(m.id));
    await refusal(mailbox.move(box().add(inbox).id, 'no-such-folder'));
    await expect(mailbox.setFlag('nope', 'flagged')).rejects.toBeInstanceOf(ProviderRefusedError);
    expect(await mailbox.folderId('sentitems')).toBe(folder('sentitems'));
    expect(await mailbox.folderId('no-such-folder')).toBeNull();
  });

  it('applies an action to many ids at once: one result per id, a missing message its own 404, a missing folder refused', async () => {
    const inbox = folder('inbox');
    const [a, b] = [box().add(inbox), box().add(inbox)];
    box().delete(b.id);
    const read = await mailbox.applyMany([a.id, b.id, a.id], { action: 'markRead', isRead: true });
    expect(read).toEqual([
      { id: a.id, ok: true },
      { id: b.id, ok: false, error: expect.objectContaining({ status: 404 }) as unknown },
    ]);
    expect(box().get(a.id)).toMatchObject({ isRead: true });
    expect(await mailbox.applyMany([a.id], { action: 'move', destinationId: 'archive' })).toEqual([
      { id: a.id, ok: true, now: { id: a.id, parentFolderId: folder('archive') } },
    ]);
    await expect(
      mailbox.applyMany([a.id], { action: 'move', destinationId: 'no-such-folder' }),
    ).rejects.toMatchObject({ status: 404 });
    expect(await mailbox.applyMany([a.id], { action: 'delete' })).toEqual([
      { id: a.id, ok: true, now: null },
    ]);
    expect(await mailbox.folderOf(a.id)).toBeNull();
  });

  it('sends, replies and forwards: a copy in Sent Items, delivered to recipients it holds; drafts take attachments', async () => {
    provider.createMailbox('acct-2', 'bob@memory.example');
    const bob = provider.mailboxOf('acct-2');
    const bobInbox = bob.findFolder('inbox')?.id as string;
    await mailbox.sendMail({
      subject: 'hello',
      body: { contentType: 'text', content: 'hi Bob' },
      toRecipients: [{ address: 'bob@memory.example', name: 'Bob' }],
      ccRecipients: [],
      bccRecipients: [{ address: 'nobody@elsewhere.example' }],
      attachments: [{ name: 'a.txt', contentType: 'text/plain', content: Buffer.from('abc') }],
    });
    const [sent] = box().inFolder(folder('sentitems'));
    expect(sent).toMatchObject({ subject: 'hello', isRead: true, from: { address: 'ann@memory.example' } });
    const [got] = bob.inFolder(bobInbox);
    expect(got).toMatchObject({ subject: 'hello', isRead: false });
    expect(got.attachments.map((a) => a.content.toString())).toEqual(['abc']);

    const bobMailbox = provider.mailbox('acct-2');
    await bobMailbox.reply(got.id, { replyAll: false, comment: 'thanks' });
    expect(
      box()
        .inFolder(folder('inbox'))
        .map((m) => m.subject),
    ).toEqual(['RE: hello']);

    const draft = await mailbox.createForward(sent.id, {
      comment: 'see below',
      toRecipients: [{ address: 'bob@memory.example' }],
    });
    expect(box().get(draft)).toMatchObject({ folderId: folder('drafts'), isDraft: true });
    await mailbox.addAttachment(draft, {
      name: 'b.txt',
      contentType: 'text/plain',
      content: Buffer.from('de'),
    });
    await mailbox.sendDraft(draft);
    expect(box().get(draft)).toMatchObject({ folderId: folder('sentitems'), isDraft: false });
    expect(
      bob
        .inFolder(bobInbox)
        .find((m) => m.subject === 'FW: hello')
        ?.attachments.map((a) => a.name),
    ).toEqual(['a.txt', 'b.txt']);
    await expect(mailbox.sendDraft(draft)).rejects.toMatchObject({ status: 400, code: 'NotADraft' });
    const newest = await mailbox.newestMessageIds('sentitems', 1);
    expect(newest).toHaveLength(1);
  });

  it('serves attachments: the list without content, then the bytes as a stream', async () => {
    const m = box().add(folder('inbox'), {
      attachments: [
        {
          id: 'att-1',
          name: 'report.pdf',
          contentType: 'application/pdf',
          content: Buffer.from('%PDF'),
          isInline: false,
        },
      ],
    });
    expect((await mailbox.changes({ folderId: folder('inbox') })).messages[0].hasAttachments).toBe(true);
    expect(await mailbox.attachments.list(m.id)).toEqual([
      {
        id: 'att-1',
        name: 'report.pdf',
        contentType: 'application/pdf',
        size: 4,
        isInline: false,
        kind: 'file',
      },
    ]);
    const content = await mailbox.attachments.openContent(m.id, 'att-1');
    const chunks: Buffer[] = [];
    for await (const c of content.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('%PDF');
    expect(content).toMatchObject({ contentType: 'application/pdf', contentLength: 4 });
    await expect(mailbox.attachments.get(m.id, 'att-9')).rejects.toMatchObject({ status: 404 });
    await expect(mailbox.attachments.list('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('watches: an open channel delivers every change in-process; lifecycle events, renew and close', async () => {
    const deliveries: MemoryDelivery[] = [];
    const lifecycle: MemoryLifecycleDelivery[] = [];
    provider.onDelivery((d) => deliveries.push(d));
    provider.onLifecycle((d) => lifecycle.push(d));
    const expiresAt = new Date(Date.now() + 60_000);
    const channel = await mailbox.watch.open({
      deliverTo: 'poke',
      lifecycleTo: 'life',
      secret: 's3',
      expiresAt,
    });
    expect(await mailbox.watch.list()).toEqual([channel]);
    expect(mailbox.watch.scope).toBe(`memory:${account}`);

    const m = box().add(folder('inbox'));
    await mailbox.move(m.id, 'archive');
    expect(deliveries.map((d) => d.changes)).toEqual([
      [{ kind: 'created', messageId: m.id, folderId: folder('inbox') }],
      [
        { kind: 'deleted', messageId: m.id, folderId: folder('inbox') },
        { kind: 'created', messageId: m.id, folderId: folder('archive') },
      ],
    ]);
    expect(deliveries[0]).toMatchObject({ accountId: account, secret: 's3', channel: { id: channel.id } });

    const later = new Date(Date.now() + 120_000);
    expect(await mailbox.watch.renew(channel.id, later)).toEqual({ ...channel, expiresAt: later });
    provider.fireLifecycle(channel.id, 'missed');
    provider.fireLifecycle(channel.id, 'ended');
    expect(lifecycle.map((l) => l.event)).toEqual(['missed', 'ended']);
    expect(await mailbox.watch.list()).toEqual([]); // ended: the provider closed it
    expect(await mailbox.watch.renew(channel.id, later)).toBeNull();

    const again = await mailbox.watch.open({
      deliverTo: 'poke',
      lifecycleTo: 'life',
      secret: 's4',
      expiresAt,
    });
    expect(await mailbox.watch.close(again.id)).toBe(true);
    expect(await mailbox.watch.close(again.id)).toBe(false);
    box().add(folder('inbox'));
    expect(deliveries).toHaveLength(2); // no channel open: nothing delivered

    const capped = new MemoryProvider({ maxWatchMinutes: 1 });
    capped.createMailbox(account, 'ann@memory.example');
    await expect(
      capped.mailbox(account).watch.open({ deliverTo: 'p', lifecycleTo: 'l', secret: 's', expiresAt: later }),
    ).rejects.toBeInstanceOf(WatchLifetimeRejectedError);
  });

  it('credentials: sealed and opened again; a revoked account needs re-authorization; an unknown one has none', async () => {
    const sealed = provider.vault.seal(account, 'secret-1');
    expect(await provider.vault.credentialFromSealed(account, sealed)).toBe('secret-1');
    await expect(provider.vault.credentialFromSealed('acct-x', sealed)).rejects.toBeInstanceOf(
      CredentialsNotFoundError,
    );
    expect(await provider.vault.credentialFor(account)).toBe('secret-1');

    const channel = await mailbox.watch.open({
      deliverTo: 'p',
      lifecycleTo: 'l',
      secret: 's',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const unlinked = provider.watchOfUnlinked({ accountId: account, sealed });
    expect(await unlinked.close(channel.id)).toBe(true);
    const noKeys = { keyId: null, accessTokenEnc: null, accessTokenExpiresAt: null, refreshTokenEnc: null };
    await expect(
      provider.watchOfUnlinked({ accountId: account, sealed: noKeys }).list(),
    ).rejects.toBeInstanceOf(CredentialsNotFoundError);

    provider.revoke(account);
    await expect(mailbox.listFolderTree()).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(mailbox.setRead('x', true)).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(provider.mailbox('acct-unknown').listFolderTree()).rejects.toBeInstanceOf(
      CredentialsNotFoundError,
    );
  });

  it('imports no provider library: only the port and its neutral types (the proof the port is provider-neutral)', () => {
    const dir = __dirname;
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(sources.length).toBeGreaterThan(3);
    for (const file of sources) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const from of imports) {
        expect({ file, from, allowed: /^(node:|\.\.?\/|@email-core\/database$)/.test(from) }).toEqual({
          file,
          from,
          allowed: true,
        });
      }
    }
  });
});
