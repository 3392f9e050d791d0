import { FaultsService } from '../faults/faults.service';
import { StatsService } from '../faults/stats.service';
import { AccessTokenInvalid, AccessTokenVerifier, type AccessClaims } from '../identity/access-claims';
import { MailboxStore, type MailboxChange } from '../store/mailbox-store';
import type { Mailbox } from '../store/model';
import { AttachmentsRoutes } from './attachments.routes';
import { GraphDispatcher } from './graph-dispatcher';
import { GraphRouter, type GraphResponse } from './graph-router';
import { MailActionsRoutes } from './mail-actions.routes';
import { MailDelivery } from './mail-delivery';
import { MessageDeltaRoutes } from './message-delta.routes';
import { MessagesRoutes } from './messages.routes';
import { SendMailRoutes } from './send-mail.routes';
import { Throttle } from './throttle';

const ORIGIN = 'https://localhost:8443';
const IMMUTABLE = { prefer: 'IdType="ImmutableId"' };
const ALL_SCOPES = ['Mail.ReadWrite', 'Mail.Send'];

/** a bearer token here is `address|scope scope`: the routes and the dispatcher are real, only signing is not */
class PlainTokens extends AccessTokenVerifier {
  verify(token: string | undefined): AccessClaims {
    if (!token) throw new AccessTokenInvalid('Access token is empty.');
    const [address, scopes = ''] = token.split('|');
    return {
      address,
      userId: address,
      tenantId: 't',
      appId: 'app-1',
      scopes: scopes.split(' ').filter(Boolean),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
  }
}

interface Recipient {
  emailAddress: { name: string; address: string };
}

/** the JSON of a Graph answer, loosely: a message, an attachment, a collection or an error */
interface Json {
  id: string;
  name: string;
  subject: string;
  contentType: string;
  contentBytes: string;
  createdDateTime: string;
  sentDateTime: string;
  internetMessageId: string;
  conversationId: string;
  hasAttachments: boolean;
  body: { contentType: string; content: string };
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  value: Json[];
  error?: { code: string };
  '@odata.deltaLink': string;
  [key: string]: unknown;
}

describe('Graph mail actions: drafts, attachments, send, reply and forward', () => {
  let store: MailboxStore;
  let stats: StatsService;
  let dispatcher: GraphDispatcher;
  let alice: Mailbox;
  let bob: Mailbox;
  let changes: MailboxChange[];

  async function graph(
    method: string,
    path: string,
    opts: { as?: Mailbox; body?: unknown; headers?: Record<string, string>; scopes?: string[] } = {},
  ): Promise<GraphResponse & { body: Json }> {
    const [p, q = ''] = path.split('?');
    const res = await dispatcher.execute(
      {
        method,
        path: p,
        query: new URLSearchParams(q),
        headers: {
          authorization: `Bearer ${(opts.as ?? alice).address}|${(opts.scopes ?? ALL_SCOPES).join(' ')}`,
          ...opts.headers,
        },
        body: opts.body,
      },
      ORIGIN,
    );
    return res as GraphResponse & { body: Json };
  }

  const folderIds = (m: Mailbox, name: string) => m.wellKnown.get(name)!;
  const subjects = (m: Mailbox, name: string) =>
    [...folderIds(m, name).messages].map((x) => store.content(x).subject);
  const file = (name: string, text: string, contentType = 'text/plain') => ({
    '@odata.type': '#microsoft.graph.fileAttachment',
    name,
    contentType,
    contentBytes: Buffer.from(text).toString('base64'),
  });
  const to = (...addresses: string[]) => addresses.map((address) => ({ emailAddress: { address } }));

  beforeEach(() => {
    store = new MailboxStore();
    stats = new StatsService();
    const router = new GraphRouter();
    const faults = new FaultsService(true);
    dispatcher = new GraphDispatcher(router, new PlainTokens(), store, faults, stats, new Throttle(faults));
    const delivery = new MailDelivery(store);
    new MessagesRoutes(router, store).onModuleInit();
    new AttachmentsRoutes(router, store).onModuleInit();
    new MailActionsRoutes(router, store, delivery).onModuleInit();
    new SendMailRoutes(router, delivery).onModuleInit();
    new MessageDeltaRoutes(router, store, stats).onModuleInit();
    alice = store.createMailbox({ address: 'alice@contoso.example', displayName: 'Alice Adams' });
    bob = store.createMailbox({ address: 'bob@fabrikam.example', displayName: 'Bob Berg' });
    changes = [];
    store.onChange((c) => changes.push(c));
  });

  describe('drafts', () => {
    it('POST /me/messages creates a draft in Drafts: 201, isDraft, from the mailbox, a created change', async () => {
      const res = await graph('POST', 'me/messages', {
        headers: IMMUTABLE,
        body: {
          subject: 'Plan',
          body: { contentType: 'HTML', content: '<p>Hi</p>' },
          toRecipients: to(bob.address),
          importance: 'High',
        },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        '@odata.context': `${ORIGIN}/v1.0/$metadata#users/messages/$entity`,
        subject: 'Plan',
        isDraft: true,
        isRead: true,
        importance: 'high',
        parentFolderId: folderIds(alice, 'drafts').id,
        from: { emailAddress: { address: alice.address, name: 'Alice Adams' } },
        toRecipients: [{ emailAddress: { address: bob.address, name: bob.address } }],
        body: { contentType: 'html', content: '<p>Hi</p>' },
      });
      const draft = store.getMessage(alice, res.body.id)!;
      expect(res.body.id).toBe(draft.immutableId);
      expect(res.headers?.['Preference-Applied']).toBe('IdType="ImmutableId"');
      expect(changes.map((c) => [c.kind, c.folder.wellKnownName])).toEqual([['created', 'drafts']]);
    });

    it('a draft is patched (subject, body, recipients); a received message refuses draft-only properties', async () => {
      const draft = (await graph('POST', 'me/messages', { body: {} })).body;
      expect(draft.body).toEqual({ contentType: 'text', content: '' });
      const patched = await graph('PATCH', `me/messages/${draft.id}`, {
        body: {
          subject: 'Now with a subject',
          body: { contentType: 'text', content: 'Body' },
          toRecipients: to(bob.address),
          ccRecipients: to('carol@elsewhere.example'),
          bccRecipients: to('dave@elsewhere.example'),
        },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        subject: 'Now with a subject',
        bodyPreview: 'Body',
        ccRecipients: [{ emailAddress: { address: 'carol@elsewhere.example' } }],
        bccRecipients: [{ emailAddress: { address: 'dave@elsewhere.example' } }],
      });
      const received = store.createMessage(folderIds(alice, 'inbox'), { subject: 'received' });
      const refused = await graph('PATCH', `me/messages/${received.id}`, { body: { subject: 'renamed' } });
      expect(refused).toMatchObject({
        status: 400,
        body: { error: { code: 'ErrorInvalidPropertyUpdateSentMessage' } },
      });
      expect((await graph('PATCH', `me/messages/${received.id}`, { body: { isRead: true } })).status).toBe(
        200,
      );
    });

    it('creating a draft takes Mail.ReadWrite; unknown properties are a 400', async () => {
      const denied = await graph('POST', 'me/messages', { body: {}, scopes: ['Mail.Read', 'Mail.Send'] });
      expect(denied).toMatchObject({ status: 403, body: { error: { code: 'ErrorAccessDenied' } } });
      const bad = await graph('POST', 'me/messages', { body: { receivedDateTime: '2020-01-01T00:00:00Z' } });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ErrorInvalidProperty' } } });
    });
  });

  describe('attachments', () => {
    it('adds file attachments to a draft (201), lists them, gets one, its raw bytes ($value), deletes one', async () => {
      const draft = (await graph('POST', 'me/messages', { body: { subject: 'with files' } })).body;
      const added = await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: file('notes.txt', 'hello notes'),
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'notes.txt',
        contentType: 'text/plain',
        size: 11,
        isInline: false,
      });
      const pdf = await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: file('a.pdf', '%PDF-1.4', 'application/pdf'),
      });
      const list = await graph('GET', `me/messages/${draft.id}/attachments`);
      expect(list.body.value.map((a: Json) => a.name)).toEqual(['notes.txt', 'a.pdf']);
      expect((await graph('GET', `me/messages/${draft.id}`)).body.hasAttachments).toBe(true);

      const raw = await graph('GET', `me/messages/${draft.id}/attachments/${pdf.body.id}/$value`);
      expect(raw.status).toBe(200);
      expect(raw.headers?.['Content-Type']).toBe('application/pdf');
      expect(Buffer.isBuffer(raw.body) && raw.body.toString()).toBe('%PDF-1.4');

      expect((await graph('DELETE', `me/messages/${draft.id}/attachments/${added.body.id}`)).status).toBe(
        204,
      );
      const after = await graph('GET', `me/messages/${draft.id}/attachments`);
      // the remaining attachment keeps its id
      expect(after.body.value.map((a: Json) => a.id)).toEqual([pdf.body.id]);
      const gone = await graph('GET', `me/messages/${draft.id}/attachments/${added.body.id}`);
      expect(gone).toMatchObject({ status: 404, body: { error: { code: 'ErrorItemNotFound' } } });
    });

    it('refuses an inline attachment over 3 MB with 413 and anything but a fileAttachment with 400', async () => {
      const draft = (await graph('POST', 'me/messages', { body: {} })).body;
      const big = await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'big.bin',
          contentBytes: Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64'),
        },
      });
      expect(big).toMatchObject({ status: 413, body: { error: { code: 'ErrorRequestEntityTooLarge' } } });
      const item = await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: { '@odata.type': '#microsoft.graph.itemAttachment', name: 'x' },
      });
      expect(item.status).toBe(400);
      const exactly3mb = await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'ok.bin',
          contentBytes: Buffer.alloc(3 * 1024 * 1024).toString('base64'),
        },
      });
      expect(exactly3mb.status).toBe(201);
    });

    it("sendMail's attachments arrive on the recipient's copy, readable through $value", async () => {
      const sent = await graph('POST', 'me/sendMail', {
        body: {
          message: {
            subject: 'files',
            toRecipients: to(bob.address),
            attachments: [file('one.txt', 'first'), file('two.csv', 'a,b', 'text/csv')],
          },
        },
      });
      expect(sent.status).toBe(202);
      const [copy] = folderIds(bob, 'inbox').messages;
      const list = await graph('GET', `me/messages/${copy.id}/attachments`, { as: bob });
      expect(list.body.value.map((a: Json) => [a.name, a.contentType])).toEqual([
        ['one.txt', 'text/plain'],
        ['two.csv', 'text/csv'],
      ]);
      const raw = await graph('GET', `me/messages/${copy.id}/attachments/${list.body.value[1].id}/$value`, {
        as: bob,
      });
      expect(raw.headers?.['Content-Type']).toBe('text/csv');
      expect((raw.body as unknown as Buffer).toString()).toBe('a,b');
    });
  });

  describe('send', () => {
    it('sends a draft: 202, it moves to Sent Items (same immutable id), the recipient gets it with its attachments', async () => {
      const draft = (
        await graph('POST', 'me/messages', {
          headers: IMMUTABLE,
          body: {
            subject: 'Quarterly numbers',
            body: { contentType: 'html', content: '<p>Attached.</p>' },
            toRecipients: to(bob.address, 'someone@elsewhere.example'),
          },
        })
      ).body;
      const regularId = store.getMessage(alice, draft.id)!.id;
      await graph('POST', `me/messages/${draft.id}/attachments`, {
        body: file('q3.csv', '1,2,3', 'text/csv'),
      });
      await graph('POST', `me/messages/${draft.id}/attachments`, { body: file('q3.txt', 'notes') });
      changes = [];

      const sent = await graph('POST', `me/messages/${draft.id}/send`);
      expect(sent.status).toBe(202);
      expect(sent.body).toBeUndefined();

      const mine = await graph('GET', `me/messages/${draft.id}`, { headers: IMMUTABLE });
      expect(mine.body).toMatchObject({
        id: draft.id,
        isDraft: false,
        isRead: true,
        parentFolderId: folderIds(alice, 'sentitems').id,
        subject: 'Quarterly numbers',
        hasAttachments: true,
      });
      expect(Date.parse(mine.body.sentDateTime)).toBeGreaterThanOrEqual(Date.parse(draft.createdDateTime));
      // the regular id changed with the move, as in Outlook
      expect((await graph('GET', `me/messages/${regularId}`)).status).toBe(404);
      expect(folderIds(alice, 'drafts').messages.size).toBe(0);

      const [copy] = folderIds(bob, 'inbox').messages;
      const got = (await graph('GET', `me/messages/${copy.id}`, { as: bob })).body;
      expect(got).toMatchObject({
        subject: 'Quarterly numbers',
        isDraft: false,
        isRead: false,
        hasAttachments: true,
        internetMessageId: mine.body.internetMessageId,
        conversationId: mine.body.conversationId,
        from: { emailAddress: { address: alice.address } },
      });
      const atts = (await graph('GET', `me/messages/${copy.id}/attachments`, { as: bob })).body.value;
      expect(atts.map((a) => [a.name, Buffer.from(a.contentBytes, 'base64').toString()])).toEqual([
        ['q3.csv', '1,2,3'],
        ['q3.txt', 'notes'],
      ]);
      // notifications and delta see the move (Drafts -> Sent Items) and the delivery
      expect(changes.map((c) => [c.mailbox.address, c.kind, c.folder.wellKnownName])).toEqual([
        [alice.address, 'deleted', 'drafts'],
        [alice.address, 'created', 'sentitems'],
        [bob.address, 'created', 'inbox'],
      ]);
      const delta = await graph('GET', 'me/mailFolders/sentitems/messages/delta', { headers: IMMUTABLE });
      expect(delta.body.value.map((m: Json) => m.id)).toEqual([draft.id]);
    });

    it('refuses to send a message that is not a draft, a draft without recipients, and without Mail.Send', async () => {
      const received = store.createMessage(folderIds(alice, 'inbox'), { subject: 'in' });
      const notDraft = await graph('POST', `me/messages/${received.id}/send`);
      expect(notDraft).toMatchObject({
        status: 400,
        body: { error: { code: 'ErrorInvalidItemForOperationSendItem' } },
      });
      const draft = (await graph('POST', 'me/messages', { body: { subject: 'nobody' } })).body;
      const nobody = await graph('POST', `me/messages/${draft.id}/send`);
      expect(nobody).toMatchObject({ status: 400, body: { error: { code: 'ErrorInvalidRecipients' } } });
      const denied = await graph('POST', `me/messages/${draft.id}/send`, { scopes: ['Mail.ReadWrite'] });
      expect(denied).toMatchObject({ status: 403, body: { error: { code: 'ErrorAccessDenied' } } });
      expect(subjects(alice, 'drafts')).toEqual(['nobody']);
    });
  });

  describe('reply and forward', () => {
    function receivedFromBob() {
      return store.createMessage(folderIds(alice, 'inbox'), {
        subject: 'Offsite',
        body: { contentType: 'html', content: '<html><body><p>See you there</p></body></html>' },
        from: { name: 'Bob Berg', address: bob.address },
        toRecipients: [
          { name: 'Alice Adams', address: alice.address },
          { name: 'Erin', address: 'erin@elsewhere.example' },
        ],
        ccRecipients: [{ name: 'Frank', address: 'frank@elsewhere.example' }],
        attachments: [
          {
            name: 'agenda.txt',
            contentType: 'text/plain',
            contentBytes: Buffer.from('agenda').toString('base64'),
            size: 6,
            isInline: false,
          },
        ],
      });
    }

    it('createReply: a draft in Drafts, "RE: ", to the sender, same conversation, the comment above the quote', async () => {
      const original = receivedFromBob();
      const res = await graph('POST', `me/messages/${original.immutableId}/createReply`, {
        headers: IMMUTABLE,
        body: { comment: 'Count me <in>' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        subject: 'RE: Offsite',
        isDraft: true,
        parentFolderId: folderIds(alice, 'drafts').id,
        toRecipients: [{ emailAddress: { address: bob.address } }],
        ccRecipients: [],
        conversationId: store.content(original).conversationId,
        hasAttachments: false,
      });
      const html = res.body.body.content;
      expect(html.indexOf('Count me &lt;in&gt;')).toBeLessThan(html.indexOf('<b>From:</b> Bob Berg'));
      expect(html).toContain('<p>See you there</p>');
    });

    it('createReplyAll: the sender and the other To recipients, Cc kept, never the mailbox itself', async () => {
      const original = receivedFromBob();
      const res = await graph('POST', `me/messages/${original.id}/createReplyAll`, { body: {} });
      const addr = (list: Recipient[]) => list.map((r) => r.emailAddress.address);
      expect(addr(res.body.toRecipients)).toEqual([bob.address, 'erin@elsewhere.example']);
      expect(addr(res.body.ccRecipients)).toEqual(['frank@elsewhere.example']);
    });

    it('createForward: "FW: ", the toRecipients parameter, and the original attachments', async () => {
      const original = receivedFromBob();
      const res = await graph('POST', `me/messages/${original.id}/createForward`, {
        body: { comment: 'FYI', toRecipients: to('gina@elsewhere.example') },
      });
      expect(res.body).toMatchObject({
        subject: 'FW: Offsite',
        toRecipients: [{ emailAddress: { address: 'gina@elsewhere.example' } }],
        hasAttachments: true,
      });
      const atts = (await graph('GET', `me/messages/${res.body.id}/attachments`)).body.value;
      expect(atts.map((a) => a.name)).toEqual(['agenda.txt']);
      // no recipients is fine for a draft (they can be patched in later)
      expect((await graph('POST', `me/messages/${original.id}/createForward`, { body: {} })).status).toBe(
        201,
      );
    });

    it('reply and forward send at once: 202, a copy in Sent Items, the recipient Inbox, no draft left', async () => {
      const original = receivedFromBob();
      const replied = await graph('POST', `me/messages/${original.id}/reply`, { body: { comment: 'Yes' } });
      expect(replied.status).toBe(202);
      const forwarded = await graph('POST', `me/messages/${original.id}/forward`, {
        body: { comment: 'look', toRecipients: to(bob.address) },
      });
      expect(forwarded.status).toBe(202);
      expect(subjects(alice, 'sentitems').sort()).toEqual(['FW: Offsite', 'RE: Offsite']);
      expect(subjects(alice, 'drafts')).toEqual([]);
      expect(subjects(bob, 'inbox').sort()).toEqual(['FW: Offsite', 'RE: Offsite']);
      const fw = [...folderIds(bob, 'inbox').messages].find(
        (m) => store.content(m).subject === 'FW: Offsite',
      )!;
      expect(store.attachments(fw).map((a) => a.name)).toEqual(['agenda.txt']);
      const re = [...folderIds(bob, 'inbox').messages].find(
        (m) => store.content(m).subject === 'RE: Offsite',
      )!;
      expect(store.content(re).conversationId).toBe(store.content(original).conversationId);
      expect(store.content(re).text).toMatch(/^Yes/);
      const replyAll = await graph('POST', `me/messages/${original.id}/replyAll`, { body: {} });
      expect(replyAll.status).toBe(202);
      expect(subjects(bob, 'inbox')).toHaveLength(3);
    });

    it('the error cases: unknown id, forward without recipients, comment with a body, both toRecipients, bad parameters, scopes', async () => {
      const original = receivedFromBob();
      const id = original.id;
      const cases: [string, string, unknown, number, string][] = [
        ['POST', 'me/messages/AAMkAGdoesnotexist=/createReply', {}, 404, 'ErrorItemNotFound'],
        ['POST', 'me/messages/AAMkAGdoesnotexist=/reply', {}, 404, 'ErrorItemNotFound'],
        ['POST', 'me/messages/AAMkAGdoesnotexist=/send', undefined, 404, 'ErrorItemNotFound'],
        ['POST', 'me/messages/AAMkAGdoesnotexist=/attachments', file('a', 'b'), 404, 'ErrorItemNotFound'],
        ['GET', 'me/messages/AAMkAGdoesnotexist=/attachments/x/$value', undefined, 404, 'ErrorItemNotFound'],
        ['POST', `me/messages/${id}/forward`, { comment: 'x' }, 400, 'ErrorInvalidRecipients'],
        [
          'POST',
          `me/messages/${id}/reply`,
          { comment: 'x', message: { body: { contentType: 'text', content: 'y' } } },
          400,
          'ErrorInvalidRequest',
        ],
        [
          'POST',
          `me/messages/${id}/createForward`,
          { toRecipients: to(bob.address), message: { toRecipients: to(bob.address) } },
          400,
          'ErrorInvalidRequest',
        ],
        ['POST', `me/messages/${id}/reply`, { toRecipients: to(bob.address) }, 400, 'RequestBodyRead'],
        ['POST', `me/messages/${id}/forward`, { toRecipients: [{ x: 1 }] }, 400, 'ErrorInvalidRecipients'],
      ];
      for (const [method, path, body, status, code] of cases) {
        const res = await graph(method, path, { body });
        expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status, code });
      }
      const readWriteOnly = { body: { comment: 'x' }, scopes: ['Mail.ReadWrite'] };
      expect((await graph('POST', `me/messages/${id}/reply`, readWriteOnly)).status).toBe(403);
      expect((await graph('POST', `me/messages/${id}/createReply`, readWriteOnly)).status).toBe(201);
      const sendOnly = { body: {}, scopes: ['Mail.Send'] };
      expect((await graph('POST', `me/messages/${id}/createReply`, sendOnly)).status).toBe(403);
    });

    it('works under mailFolders/{id}/messages/{id} and users/{id}/messages/{id}, and is counted in the stats', async () => {
      const original = receivedFromBob();
      const viaFolder = await graph('POST', `me/mailFolders/inbox/messages/${original.id}/createReply`, {
        body: {},
      });
      expect(viaFolder.status).toBe(201);
      const wrongFolder = await graph('POST', `me/mailFolders/archive/messages/${original.id}/createReply`, {
        body: {},
      });
      expect(wrongFolder.status).toBe(404);
      const viaUser = await graph('POST', `users/${alice.address}/messages`, { body: { subject: 'u' } });
      expect(viaUser.status).toBe(201);
      const snapshot = stats.snapshot() as { mailboxes: Record<string, { requests: number }> };
      expect(snapshot.mailboxes[alice.address].requests).toBe(3);
    });
  });

  describe('DELETE', () => {
    it('removes the message from every folder the client sees: not moved to Deleted Items, 404 after, @removed in delta', async () => {
      const msg = store.createMessage(folderIds(alice, 'inbox'), { subject: 'bye' });
      const start = await graph('GET', 'me/mailFolders/inbox/messages/delta', { headers: IMMUTABLE });
      const deltaLink = start.body['@odata.deltaLink'];
      changes = [];
      expect((await graph('DELETE', `me/messages/${msg.immutableId}`)).status).toBe(204);
      expect(folderIds(alice, 'deleteditems').messages.size).toBe(0);
      expect((await graph('GET', `me/messages/${msg.immutableId}`)).status).toBe(404);
      expect(changes.map((c) => [c.kind, c.folder.wellKnownName])).toEqual([['deleted', 'inbox']]);
      const next = await graph('GET', deltaLink.slice(`${ORIGIN}/v1.0/`.length), { headers: IMMUTABLE });
      expect(next.body.value).toEqual([
        { '@odata.type': '#microsoft.graph.message', id: msg.immutableId, '@removed': { reason: 'deleted' } },
      ]);
      // the stats count what delta served: the message once, then its removal
      const snapshot = stats.snapshot() as { mailboxes: Record<string, { deltaItems: number }> };
      expect(snapshot.mailboxes[alice.address].deltaItems).toBe(2);
    });
  });
});
