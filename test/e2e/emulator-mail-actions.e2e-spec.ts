import { Client, GraphError, ResponseType, type PageCollection } from '@microsoft/microsoft-graph-client';
import { startEmulator, type RunningEmulator } from '@email-core/testing';

interface Recipient {
  emailAddress: { name: string; address: string };
}
interface Message {
  id: string;
  subject: string;
  isDraft: boolean;
  isRead: boolean;
  parentFolderId: string;
  sentDateTime: string;
  createdDateTime: string;
  hasAttachments: boolean;
  internetMessageId: string;
  conversationId: string;
  body: { contentType: string; content: string };
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
}
interface Attachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  contentBytes: string;
}
interface Folder {
  id: string;
  totalItemCount: number;
}
interface Export {
  folders: { id: string; wellKnownName: string | null; totalItemCount: number }[];
  messages: (Message & { immutableId: string })[];
}
interface Stats {
  mailboxes: Record<string, { requests: number; statuses: Record<string, number> }>;
}

const IMMUTABLE = 'IdType="ImmutableId"';

/**
 * The emulator's mail actions driven by Microsoft's Graph SDK against the real emulator process: a draft with
 * two attachments sent from one mailbox to another, reply and forward (as drafts and at once), the error cases,
 * DELETE, and what delta, the export and the stats show afterwards.
 */
describe('outlook emulator: mail actions through @microsoft/microsoft-graph-client', () => {
  let emu: RunningEmulator;
  const alice = 'alice@contoso.example';
  const bob = 'bob@fabrikam.example';
  const carol = 'carol@contoso.example';
  const tokens = new Map<string, string>();

  const token = async (address: string, scopes?: string[]): Promise<string> => {
    const key = `${address}|${scopes?.join(' ') ?? ''}`;
    let t = tokens.get(key);
    if (!t) {
      t = (await emu.admin<{ access_token: string }>('POST', '/_emulator/tokens', { address, scopes }))
        .access_token;
      tokens.set(key, t);
    }
    return t;
  };
  const clientFor = async (address: string, scopes?: string[]): Promise<Client> => {
    const accessToken = await token(address, scopes);
    return Client.init({
      authProvider: (done) => done(null, accessToken),
      baseUrl: `${emu.origin}/`,
      customHosts: new Set(['localhost']),
      defaultVersion: 'v1.0',
    });
  };
  /** a Graph call that must fail: its status and Graph error code */
  const failure = async (call: Promise<unknown>): Promise<{ status: number; code: string }> => {
    try {
      await call;
    } catch (err) {
      if (err instanceof GraphError) return { status: err.statusCode, code: err.code ?? '' };
      throw err;
    }
    throw new Error('the call succeeded');
  };
  const file = (name: string, contentType: string, bytes: Buffer) => ({
    '@odata.type': '#microsoft.graph.fileAttachment',
    name,
    contentType,
    contentBytes: bytes.toString('base64'),
  });
  const recipients = (...addresses: string[]) => addresses.map((address) => ({ emailAddress: { address } }));
  const inboxWith = async (client: Client, subject: string): Promise<Message[]> =>
    (
      (await client
        .api('/me/mailFolders/inbox/messages')
        .header('Prefer', IMMUTABLE)
        .filter(`subject eq '${subject}'`)
        .get()) as { value: Message[] }
    ).value;
  const requests = async (address: string): Promise<number> =>
    (await emu.admin<Stats>('GET', '/_emulator/stats')).mailboxes[address]?.requests ?? 0;

  // binary content with every byte value, so a $value round trip proves the bytes, not just text
  const pdf = Buffer.concat([
    Buffer.from('%PDF-1.7\n'),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  ]);
  const csv = Buffer.from('quarter,revenue\nQ3,1200\n');

  beforeAll(async () => {
    emu = await startEmulator();
    await emu.admin('POST', '/_emulator/mailboxes', {
      address: alice,
      displayName: 'Alice Adams',
      seed: { messages: 40, seed: 5 },
    });
    await emu.admin('POST', '/_emulator/mailboxes', { address: bob, displayName: 'Bob Berg' });
    await emu.admin('POST', '/_emulator/mailboxes', { address: carol, displayName: 'Carol Chen' });
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  let sentId: string;

  it('draft, two attachments, send: Sent Items keeps the immutable id, the recipient gets both attachments byte for byte', async () => {
    const a = await clientFor(alice);
    const b = await clientFor(bob);
    const inboxDelta = (await b
      .api('/me/mailFolders/inbox/messages/delta')
      .header('Prefer', IMMUTABLE)
      .get()) as PageCollection;
    const deltaLink = inboxDelta['@odata.deltaLink'] as string;

    const draft = (await a
      .api('/me/messages')
      .header('Prefer', IMMUTABLE)
      .post({
        subject: 'Q3 figures',
        body: { contentType: 'HTML', content: '<p>Figures attached.</p>' },
        toRecipients: recipients(bob),
      })) as Message;
    expect(draft).toMatchObject({ subject: 'Q3 figures', isDraft: true });
    const drafts = (await a.api('/me/mailFolders/drafts').get()) as Folder;
    expect(draft.parentFolderId).toBe(drafts.id);

    const patched = (await a
      .api(`/me/messages/${draft.id}`)
      .header('Prefer', IMMUTABLE)
      .patch({
        ccRecipients: recipients('someone@elsewhere.example'),
        subject: 'Q3 figures (final)',
      })) as Message;
    expect(patched).toMatchObject({ id: draft.id, subject: 'Q3 figures (final)' });

    const one = (await a
      .api(`/me/messages/${draft.id}/attachments`)
      .post(file('q3.pdf', 'application/pdf', pdf))) as Attachment;
    const two = (await a
      .api(`/me/messages/${draft.id}/attachments`)
      .post(file('q3.csv', 'text/csv', csv))) as Attachment;
    expect([one.size, two.size]).toEqual([pdf.length, csv.length]);

    const before = await requests(alice);
    await a.api(`/me/messages/${draft.id}/send`).post(undefined);
    expect(await requests(alice)).toBe(before + 1);

    const sent = (await a.api(`/me/messages/${draft.id}`).header('Prefer', IMMUTABLE).get()) as Message;
    const sentItems = (await a.api('/me/mailFolders/sentitems').get()) as Folder;
    expect(sent).toMatchObject({
      id: draft.id,
      isDraft: false,
      parentFolderId: sentItems.id,
      hasAttachments: true,
    });
    expect(Date.parse(sent.sentDateTime)).toBeGreaterThanOrEqual(Date.parse(draft.createdDateTime));
    sentId = sent.id;

    const [got] = await inboxWith(b, 'Q3 figures (final)');
    expect(got).toMatchObject({
      isDraft: false,
      isRead: false,
      hasAttachments: true,
      internetMessageId: sent.internetMessageId,
      from: { emailAddress: { address: alice, name: 'Alice Adams' } },
    });
    const atts = ((await b.api(`/me/messages/${got.id}/attachments`).get()) as { value: Attachment[] }).value;
    expect(atts.map((x) => [x.name, x.contentType, x.size])).toEqual([
      ['q3.pdf', 'application/pdf', pdf.length],
      ['q3.csv', 'text/csv', csv.length],
    ]);
    for (const [att, bytes] of [
      [atts[0], pdf],
      [atts[1], csv],
    ] as const) {
      const raw = (await b
        .api(`/me/messages/${got.id}/attachments/${att.id}/$value`)
        .responseType(ResponseType.ARRAYBUFFER)
        .get()) as ArrayBuffer;
      expect(Buffer.from(raw).equals(bytes)).toBe(true);
      // and through plain HTTP: the attachment's own content type
      const res = await fetch(`${emu.origin}/v1.0/me/messages/${got.id}/attachments/${att.id}/$value`, {
        headers: { authorization: `Bearer ${await token(bob)}` },
      });
      expect(res.headers.get('content-type')).toBe(att.contentType);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }

    // delta on the recipient's inbox sees exactly the delivered message
    const next = (await b.api(deltaLink).header('Prefer', IMMUTABLE).get()) as PageCollection;
    expect((next.value as Message[]).map((m) => m.id)).toEqual([got.id]);

    // ground truth: the sender's draft is gone from Drafts and sits in Sent Items, not a draft any more
    const exp = await emu.admin<Export>('GET', `/_emulator/mailboxes/${alice}/export`);
    const mine = exp.messages.find((m) => m.immutableId === draft.id);
    expect(mine).toMatchObject({ parentFolderId: sentItems.id, isDraft: false });
    expect(exp.folders.find((f) => f.wellKnownName === 'drafts')?.totalItemCount).toBe(0);
  });

  it('createReply, edited and sent; createForward with the original attachments; reply and forward at once', async () => {
    const a = await clientFor(alice);
    const b = await clientFor(bob);
    const c = await clientFor(carol);
    const [received] = await inboxWith(b, 'Q3 figures (final)');

    const reply = (await b
      .api(`/me/messages/${received.id}/createReply`)
      .header('Prefer', IMMUTABLE)
      .post({ comment: 'Thanks, looks good.' })) as Message;
    expect(reply).toMatchObject({
      subject: 'RE: Q3 figures (final)',
      isDraft: true,
      toRecipients: [{ emailAddress: { address: alice } }],
      conversationId: received.conversationId,
      hasAttachments: false,
    });
    expect(reply.body.content).toContain('Thanks, looks good.');
    expect(reply.body.content).toContain('Figures attached.');
    await b.api(`/me/messages/${reply.id}`).patch({ importance: 'high' });
    await b.api(`/me/messages/${reply.id}/send`).post(undefined);
    const [back] = await inboxWith(a, 'RE: Q3 figures (final)');
    expect(back).toMatchObject({ from: { emailAddress: { address: bob } } });

    const all = (await b.api(`/me/messages/${received.id}/createReplyAll`).post({})) as Message;
    expect(all.toRecipients.map((r) => r.emailAddress.address)).toEqual([alice]);
    expect(all.ccRecipients.map((r) => r.emailAddress.address)).toEqual(['someone@elsewhere.example']);

    const fw = (await b
      .api(`/me/messages/${received.id}/createForward`)
      .header('Prefer', IMMUTABLE)
      .post({ comment: 'For your records', toRecipients: recipients(carol) })) as Message;
    expect(fw).toMatchObject({
      subject: 'FW: Q3 figures (final)',
      toRecipients: [{ emailAddress: { address: carol } }],
      hasAttachments: true,
    });
    await b.api(`/me/messages/${fw.id}/send`).post(undefined);
    const [forwarded] = await inboxWith(c, 'FW: Q3 figures (final)');
    const fwAtts = (
      (await c.api(`/me/messages/${forwarded.id}/attachments`).get()) as { value: Attachment[] }
    ).value;
    expect(fwAtts.map((x) => x.name)).toEqual(['q3.pdf', 'q3.csv']);
    expect(Buffer.from(fwAtts[0].contentBytes, 'base64').equals(pdf)).toBe(true);

    // at once: 202, nothing left in Drafts, a copy in Sent Items and in the recipient's Inbox
    const bobDrafts = (await b.api('/me/mailFolders/drafts').get()) as Folder;
    await c.api(`/me/messages/${forwarded.id}/reply`).post({ comment: 'Got it' });
    await c
      .api(`/me/messages/${forwarded.id}/forward`)
      .post({ comment: 'fyi', toRecipients: recipients(alice) });
    expect((await inboxWith(b, 'RE: FW: Q3 figures (final)')).length).toBe(1);
    const [fwToAlice] = await inboxWith(a, 'FW: Q3 figures (final)');
    expect(fwToAlice.hasAttachments).toBe(true);
    const carolSent = (
      (await c.api('/me/mailFolders/sentitems/messages').select('subject,isDraft').get()) as {
        value: Pick<Message, 'subject' | 'isDraft'>[];
      }
    ).value;
    expect(carolSent.map((m) => m.subject).sort()).toEqual([
      'FW: Q3 figures (final)',
      'RE: FW: Q3 figures (final)',
    ]);
    expect(carolSent.every((m) => !m.isDraft)).toBe(true);
    expect(((await c.api('/me/mailFolders/drafts').get()) as Folder).totalItemCount).toBe(0);
    // Bob's createReplyAll draft is the only one left in his Drafts
    expect(bobDrafts.totalItemCount).toBe(1);
  });

  it('answers the error cases with Graph status codes and error codes', async () => {
    const a = await clientFor(alice);
    const readWrite = await clientFor(alice, ['Mail.ReadWrite']);
    const send = await clientFor(alice, ['Mail.Send']);
    const unknown = 'AAMkAGdoesnotexist=';
    const inbox = (await a.api('/me/mailFolders/inbox/messages').top(1).get()) as { value: Message[] };
    const received = inbox.value[0];
    const draft = (await a.api('/me/messages').post({ subject: 'nobody yet' })) as Message;

    // one at a time: a burst would meet the emulator's 4-concurrent-requests throttle
    const cases: [string, () => Promise<unknown>, number, string][] = [
      [
        'createReply, unknown id',
        () => a.api(`/me/messages/${unknown}/createReply`).post({}),
        404,
        'ErrorItemNotFound',
      ],
      [
        'forward, unknown id',
        () => a.api(`/me/messages/${unknown}/forward`).post({}),
        404,
        'ErrorItemNotFound',
      ],
      [
        'send, unknown id',
        () => a.api(`/me/messages/${unknown}/send`).post(undefined),
        404,
        'ErrorItemNotFound',
      ],
      [
        'attachment of an unknown message',
        () => a.api(`/me/messages/${unknown}/attachments`).post(file('a.txt', 'text/plain', csv)),
        404,
        'ErrorItemNotFound',
      ],
      [
        '$value of an unknown attachment',
        () => a.api(`/me/messages/${received.id}/attachments/nope/$value`).get(),
        404,
        'ErrorItemNotFound',
      ],
      [
        'send a message that is not a draft',
        () => a.api(`/me/messages/${received.id}/send`).post(undefined),
        400,
        'ErrorInvalidItemForOperationSendItem',
      ],
      [
        'send a draft without recipients',
        () => a.api(`/me/messages/${draft.id}/send`).post(undefined),
        400,
        'ErrorInvalidRecipients',
      ],
      [
        'forward without recipients',
        () => a.api(`/me/messages/${received.id}/forward`).post({ comment: 'x' }),
        400,
        'ErrorInvalidRecipients',
      ],
      [
        'a comment and a message body',
        () =>
          a
            .api(`/me/messages/${received.id}/createReply`)
            .post({ comment: 'x', message: { body: { contentType: 'text', content: 'y' } } }),
        400,
        'ErrorInvalidRequest',
      ],
      [
        'an attachment over 3 MB',
        () =>
          a
            .api(`/me/messages/${draft.id}/attachments`)
            .post(file('big.bin', 'application/octet-stream', Buffer.alloc(3 * 1024 * 1024 + 1))),
        413,
        'ErrorRequestEntityTooLarge',
      ],
      [
        'PATCH the subject of a received message',
        () => a.api(`/me/messages/${received.id}`).patch({ subject: 'renamed' }),
        400,
        'ErrorInvalidPropertyUpdateSentMessage',
      ],
      [
        'reply without Mail.Send',
        () => readWrite.api(`/me/messages/${received.id}/reply`).post({}),
        403,
        'ErrorAccessDenied',
      ],
      [
        'send without Mail.Send',
        () => readWrite.api(`/me/messages/${draft.id}/send`).post(undefined),
        403,
        'ErrorAccessDenied',
      ],
      ['a draft without Mail.ReadWrite', () => send.api('/me/messages').post({}), 403, 'ErrorAccessDenied'],
      [
        'createForward without Mail.ReadWrite',
        () => send.api(`/me/messages/${received.id}/createForward`).post({}),
        403,
        'ErrorAccessDenied',
      ],
    ];
    for (const [name, call, status, code] of cases) {
      expect({ name, ...(await failure(call())) }).toEqual({ name, status, code });
    }
  });

  it('DELETE as on Graph: 204, gone from the export and from every folder, not moved to Deleted Items', async () => {
    const a = await clientFor(alice);
    const before = await emu.admin<Export>('GET', `/_emulator/mailboxes/${alice}/export`);
    const deletedItems = before.folders.find((f) => f.wellKnownName === 'deleteditems')!;
    const victim = before.messages.find((m) => m.immutableId !== sentId)!;
    await a.api(`/me/messages/${victim.immutableId}`).delete();
    const after = await emu.admin<Export>('GET', `/_emulator/mailboxes/${alice}/export`);
    expect(after.messages.some((m) => m.immutableId === victim.immutableId)).toBe(false);
    expect(after.messages.length).toBe(before.messages.length - 1);
    expect(after.folders.find((f) => f.id === deletedItems.id)?.totalItemCount).toBe(
      deletedItems.totalItemCount,
    );
    expect(await failure(a.api(`/me/messages/${victim.immutableId}`).get())).toEqual({
      status: 404,
      code: 'ErrorItemNotFound',
    });
  });
});
