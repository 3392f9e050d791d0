import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  PageIterator,
  type PageCollection,
} from '@microsoft/microsoft-graph-client';
import { startEmulator, type RunningEmulator } from '@email-core/testing';

/**
 * The emulator driven by Microsoft's own Graph SDK, configured only through `baseUrl` and `customHosts`:
 * paging, delta to completion and then incrementally after changes, $batch, and the SDK's retry handler.
 */
describe('outlook emulator: Graph through @microsoft/microsoft-graph-client', () => {
  let emu: RunningEmulator;
  const alice = 'alice@contoso.example';
  const bob = 'bob@fabrikam.example';

  const clientFor = async (address: string): Promise<Client> => {
    const { access_token } = await emu.admin<{ access_token: string }>('POST', '/_emulator/tokens', {
      address,
    });
    return Client.init({
      authProvider: (done) => done(null, access_token),
      baseUrl: `${emu.origin}/`,
      customHosts: new Set(['localhost']),
      defaultVersion: 'v1.0',
    });
  };

  beforeAll(async () => {
    emu = await startEmulator();
    await emu.admin('POST', '/_emulator/mailboxes', {
      address: alice,
      displayName: 'Alice Adams',
      seed: { messages: 1200, seed: 42 },
    });
    await emu.admin('POST', '/_emulator/mailboxes', { address: bob, displayName: 'Bob Berg' });
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('answers /me for the signed-in user', async () => {
    const client = await clientFor(alice);
    const me = (await client.api('/me').get()) as { mail: string; displayName: string; id: string };
    expect(me).toMatchObject({ mail: alice, displayName: 'Alice Adams' });
    expect(me.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists the folder tree, nested folders included, with counts that match the ground truth', async () => {
    const client = await clientFor(alice);
    const seen: { id: string; displayName: string; totalItemCount: number; childFolderCount: number }[] = [];
    const walk = async (path: string): Promise<void> => {
      let res = (await client.api(path).top(50).get()) as PageCollection;
      for (;;) {
        for (const f of res.value as typeof seen) {
          seen.push(f);
          if (f.childFolderCount > 0) await walk(`/me/mailFolders/${f.id}/childFolders`);
        }
        if (!res['@odata.nextLink']) break;
        res = (await client.api(res['@odata.nextLink']).get()) as PageCollection;
      }
    };
    await walk('/me/mailFolders');
    const truth = await emu.admin<{ folders: { id: string; path: string; totalItemCount: number }[] }>(
      'GET',
      `/_emulator/mailboxes/${alice}`,
    );
    const visible = truth.folders.filter((f) => !['Scheduled', 'Sync Issues'].includes(f.path));
    expect(seen.map((f) => f.id).sort()).toEqual(visible.map((f) => f.id).sort());
    expect(visible.some((f) => f.path === 'Inbox/Projects/2026')).toBe(true);
    for (const f of seen)
      expect(f.totalItemCount).toBe(truth.folders.find((t) => t.id === f.id)?.totalItemCount);
  });

  it('PageIterator walks every message of the inbox, newest first', async () => {
    const client = await clientFor(alice);
    const first = (await client
      .api('/me/mailFolders/inbox/messages')
      .select('id,receivedDateTime,subject')
      .top(100)
      .get()) as PageCollection;
    const dates: string[] = [];
    const it = new PageIterator(client, first, (m: { receivedDateTime: string }) => {
      dates.push(m.receivedDateTime);
      return true;
    });
    await it.iterate();
    const inbox = (await client.api('/me/mailFolders/inbox').get()) as { totalItemCount: number };
    expect(dates.length).toBe(inbox.totalItemCount);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('delta to completion, then incremental delta after random activity, reproduces the export exactly', async () => {
    const client = await clientFor(alice);
    const folders = (await emu.admin<{ folders: { id: string }[] }>('GET', `/_emulator/mailboxes/${alice}`))
      .folders;
    // the first copy: per folder, message id -> changeKey
    const copy = new Map<string, Map<string, string>>();
    const deltaLinks = new Map<string, string>();
    const round = async (folderId: string, start: string) => {
      const mine = copy.get(folderId) ?? new Map<string, string>();
      copy.set(folderId, mine);
      const first = (await client
        .api(start)
        .header('Prefer', 'odata.maxpagesize=200')
        .get()) as PageCollection;
      const it = new PageIterator(
        client,
        first,
        (item: { id: string; changeKey?: string; '@removed'?: unknown }) => {
          if (item['@removed']) mine.delete(item.id);
          else mine.set(item.id, item.changeKey ?? '');
          return true;
        },
        { headers: { Prefer: 'odata.maxpagesize=200' } },
      );
      await it.iterate();
      const link = it.getDeltaLink();
      expect(link).toContain('$deltatoken=');
      deltaLinks.set(folderId, link as string);
    };
    for (const f of folders) await round(f.id, `/me/mailFolders/${f.id}/messages/delta`);
    const initial = [...copy.values()].reduce((n, m) => n + m.size, 0);
    expect(initial).toBe(1200);

    const activity = await emu.admin<{ counts: Record<string, number> }>(
      'POST',
      `/_emulator/mailboxes/${alice}/activity`,
      {
        creates: 60,
        updates: 80,
        moves: 40,
        deletes: 30,
        seed: 7,
        wait: true,
      },
    );
    expect(activity.counts).toEqual({ creates: 60, updates: 80, moves: 40, deletes: 30 });
    for (const f of folders) await round(f.id, deltaLinks.get(f.id) as string);

    const exp = await emu.admin<{ messages: { id: string; changeKey: string; parentFolderId: string }[] }>(
      'GET',
      `/_emulator/mailboxes/${alice}/export`,
    );
    const truth = new Map<string, Map<string, string>>(folders.map((f) => [f.id, new Map<string, string>()]));
    for (const m of exp.messages) truth.get(m.parentFolderId)?.set(m.id, m.changeKey);
    const flat = (m: Map<string, Map<string, string>>) =>
      [...m.entries()]
        .flatMap(([f, msgs]) => [...msgs.entries()].map(([id, ck]) => `${f}/${id}/${ck}`))
        .sort();
    expect(flat(copy)).toEqual(flat(truth));
    expect(exp.messages.length).toBe(1200 + 60 - 30);
  });

  it('$batch runs up to 20 requests, honours dependsOn and answers each on its own', async () => {
    const client = await clientFor(alice);
    const res = (await client.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: '/me' },
        { id: '2', method: 'GET', url: '/me/mailFolders/inbox' },
        { id: '3', method: 'GET', url: '/me/messages/AAMkAGdoesnotexist=' },
        { id: '4', method: 'GET', url: '/me/mailFolders/sentitems', dependsOn: ['3'] },
      ],
    })) as {
      responses: { id: string; status: number; body: { error?: { code: string }; displayName?: string } }[];
    };
    const byId = new Map(res.responses.map((r) => [r.id, r]));
    expect(byId.get('1')?.status).toBe(200);
    expect(byId.get('2')?.body.displayName).toBe('Inbox');
    expect(byId.get('3')).toMatchObject({ status: 404, body: { error: { code: 'ErrorItemNotFound' } } });
    expect(byId.get('4')?.status).toBe(424);
  });

  it("the SDK's BatchRequestContent and BatchResponseContent round-trip through $batch", async () => {
    const client = await clientFor(alice);
    const batch = new BatchRequestContent([
      { id: 'me', request: new Request(`${emu.origin}/v1.0/me`, { method: 'GET' }) },
      {
        id: 'inbox',
        request: new Request(`${emu.origin}/v1.0/me/mailFolders/inbox/messages?$top=3&$select=subject`, {
          method: 'GET',
        }),
        dependsOn: ['me'],
      },
    ]);
    const body = (await client.api('/$batch').post(await batch.getContent())) as ConstructorParameters<
      typeof BatchResponseContent
    >[0];
    const parsed = new BatchResponseContent(body);
    const me = parsed.getResponseById('me');
    const inbox = parsed.getResponseById('inbox');
    expect(me.status).toBe(200);
    expect(((await me.json()) as { mail: string }).mail).toBe(alice);
    expect(((await inbox.json()) as { value: unknown[] }).value).toHaveLength(3);
  });

  it("the SDK's retry handler rides out 429s with Retry-After", async () => {
    const client = await clientFor(bob);
    const before = await emu.admin<{ mailboxes: Record<string, { statuses: Record<string, number> }> }>(
      'GET',
      '/_emulator/stats',
    );
    const prior429 = before.mailboxes[bob]?.statuses['429'] ?? 0;
    await emu.admin('POST', '/_emulator/faults', {
      failNext: { count: 2, status: 429, retryAfterSeconds: 1 },
    });
    const inbox = (await client.api('/me/mailFolders/inbox').get()) as { displayName: string };
    expect(inbox.displayName).toBe('Inbox');
    const after = await emu.admin<{ mailboxes: Record<string, { statuses: Record<string, number> }> }>(
      'GET',
      '/_emulator/stats',
    );
    expect((after.mailboxes[bob]?.statuses['429'] ?? 0) - prior429).toBe(2);
  });

  it('sendMail files the mail in Sent Items and delivers it to an emulator recipient with its attachment', async () => {
    const client = await clientFor(bob);
    const sentBefore = (await client.api('/me/mailFolders/sentitems').get()) as { totalItemCount: number };
    await client.api('/me/sendMail').post({
      message: {
        subject: 'Lunch on Friday?',
        body: { contentType: 'Text', content: 'The usual place at noon.' },
        toRecipients: [{ emailAddress: { address: alice } }],
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'menu.txt',
            contentType: 'text/plain',
            contentBytes: Buffer.from('soup').toString('base64'),
          },
        ],
      },
    });
    const sentAfter = (await client.api('/me/mailFolders/sentitems').get()) as { totalItemCount: number };
    expect(sentAfter.totalItemCount).toBe(sentBefore.totalItemCount + 1);
    const aliceClient = await clientFor(alice);
    const found = (await aliceClient
      .api('/me/mailFolders/inbox/messages')
      .filter("subject eq 'Lunch on Friday?'")
      .get()) as {
      value: { id: string; from: { emailAddress: { address: string } }; hasAttachments: boolean }[];
    };
    expect(found.value).toHaveLength(1);
    expect(found.value[0]).toMatchObject({ from: { emailAddress: { address: bob } }, hasAttachments: true });
    const atts = (await aliceClient.api(`/me/messages/${found.value[0].id}/attachments`).get()) as {
      value: { name: string; contentBytes: string }[];
    };
    expect(atts.value.map((a) => [a.name, Buffer.from(a.contentBytes, 'base64').toString()])).toEqual([
      ['menu.txt', 'soup'],
    ]);
  });
});
