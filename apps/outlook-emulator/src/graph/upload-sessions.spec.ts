import { createHash, randomBytes } from 'node:crypto';
import { FaultsService } from '../faults/faults.service';
import { StatsService } from '../faults/stats.service';
import { AccessTokenInvalid, AccessTokenVerifier, type AccessClaims } from '../identity/access-claims';
import { MailboxStore } from '../store/mailbox-store';
import type { Mailbox } from '../store/model';
import { AttachmentsRoutes } from './attachments.routes';
import { GraphDispatcher } from './graph-dispatcher';
import { GraphRouter, type GraphResponse } from './graph-router';
import { MailActionsRoutes } from './mail-actions.routes';
import { MailDelivery } from './mail-delivery';
import { MessagesRoutes } from './messages.routes';
import { Throttle } from './throttle';
import { SESSION_LIFETIME_MS, UploadSessions, type SessionResponse } from './upload-sessions';

const ORIGIN = 'https://localhost:8443';
const MB = 1024 * 1024;

/** a bearer token here is the mailbox address: the routes and the dispatcher are real, only signing is not */
class PlainTokens extends AccessTokenVerifier {
  verify(token: string | undefined): AccessClaims {
    if (!token) throw new AccessTokenInvalid('Access token is empty.');
    return {
      address: token,
      userId: token,
      tenantId: 't',
      appId: 'app-1',
      scopes: ['Mail.ReadWrite', 'Mail.Send'],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
  }
}

interface Json {
  id: string;
  uploadUrl: string;
  expirationDateTime: string;
  ExpirationDateTime: string;
  nextExpectedRanges: string[];
  value: Array<{ id: string; name: string; size: number; contentBytes: string }>;
  error?: { code: string; message: string };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Graph upload sessions for large attachments', () => {
  let store: MailboxStore;
  let dispatcher: GraphDispatcher;
  let sessions: UploadSessions;
  let alice: Mailbox;
  let bob: Mailbox;
  let clock: number;

  async function graph(method: string, path: string, body?: unknown, as: Mailbox = alice) {
    const res = await dispatcher.execute(
      {
        method,
        path,
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${as.address}` },
        body,
      },
      ORIGIN,
    );
    return res as GraphResponse & { body: Json };
  }

  /** the path and token of an upload URL, as the controller hands them over */
  const parts = (uploadUrl: string) => {
    const u = new URL(uploadUrl);
    return { path: u.pathname, token: u.searchParams.get('authtoken') };
  };
  const put = (uploadUrl: string, bytes: Buffer, start: number, total: number, range?: string) => {
    const { path, token } = parts(uploadUrl);
    return sessions.put(
      ORIGIN,
      path,
      token,
      range ?? `bytes ${start}-${start + bytes.length - 1}/${total}`,
      bytes,
    );
  };
  const body = (r: SessionResponse) => r.body as Json;

  async function draftWithSession(size: number, name = 'big.bin') {
    const draft = (await graph('POST', 'me/messages', { subject: 'Big', toRecipients: [] })).body;
    // upload URLs and Locations name the message by its immutable id, whichever id the request used
    draft.id = store.getMessage(alice, draft.id)!.immutableId;
    const created = await graph('POST', `me/messages/${draft.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name, size, contentType: 'application/zip' },
    });
    return { draft, created };
  }

  beforeEach(() => {
    store = new MailboxStore();
    const router = new GraphRouter();
    const faults = new FaultsService(true);
    dispatcher = new GraphDispatcher(
      router,
      new PlainTokens(),
      store,
      faults,
      new StatsService(),
      new Throttle(faults),
    );
    new MessagesRoutes(router, store).onModuleInit();
    new AttachmentsRoutes(router, store).onModuleInit();
    new MailActionsRoutes(router, store, new MailDelivery(store)).onModuleInit();
    sessions = new UploadSessions(router, store);
    clock = Date.parse('2026-12-01T10:00:00Z');
    sessions.now = () => clock;
    sessions.onModuleInit();
    alice = store.createMailbox({ address: 'alice@contoso.example', displayName: 'Alice Adams' });
    bob = store.createMailbox({ address: 'bob@fabrikam.example', displayName: 'Bob Berg' });
  });

  it('createUploadSession: 201 with a pre-authenticated uploadUrl, its expiry and nextExpectedRanges ["0-"]', async () => {
    const { draft, created } = await draftWithSession(5 * MB);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      '@odata.context': `${ORIGIN}/v1.0/$metadata#microsoft.graph.uploadSession`,
      expirationDateTime: new Date(clock + SESSION_LIFETIME_MS).toISOString().replace('Z', '0000Z'),
      nextExpectedRanges: ['0-'],
    });
    expect(created.body.uploadUrl).toMatch(
      new RegExp(
        `^${ORIGIN}/api/v2\\.0/Users\\('${alice.userId}'\\)/Messages\\('${draft.id}'\\)/AttachmentSessions\\('[^']+'\\)\\?authtoken=.+$`,
      ),
    );
  });

  it('uploads in order: 200 with the next expected byte, then 201 with a Location naming the attachment; bytes intact', async () => {
    const file = randomBytes(7 * MB + 123);
    const { draft, created } = await draftWithSession(file.length);
    const url = created.body.uploadUrl;
    const chunk = 10 * 320 * 1024;
    let answer: SessionResponse | undefined;
    for (let start = 0; start < file.length; start += chunk) {
      answer = put(url, file.subarray(start, start + chunk), start, file.length);
      if (start + chunk < file.length) {
        expect(answer.status).toBe(200);
        expect(body(answer).nextExpectedRanges).toEqual([String(start + chunk)]);
        expect(body(answer).ExpirationDateTime).toBe(created.body.expirationDateTime);
      }
    }
    expect(answer?.status).toBe(201);
    expect(answer?.body).toBeUndefined();
    const list = (await graph('GET', `me/messages/${draft.id}/attachments`)).body.value;
    expect(list.map((a) => [a.name, a.size])).toEqual([['big.bin', file.length]]);
    expect(answer?.headers?.Location).toBe(
      `${ORIGIN}/api/v2.0/Users('${alice.userId}')/Messages('${draft.id}')/Attachments('${list[0].id}')`,
    );
    const value = await graph('GET', `me/messages/${draft.id}/attachments/${list[0].id}/$value`);
    expect(sha256(value.body as unknown as Buffer)).toBe(sha256(file));
    // the session is gone once complete
    expect(sessions.status(ORIGIN, parts(url).path, parts(url).token).status).toBe(404);
  });

  it('a sent draft delivers the uploaded attachment to the recipient, byte for byte', async () => {
    const file = randomBytes(4 * MB);
    const draft = (
      await graph('POST', 'me/messages', {
        subject: 'Big one',
        toRecipients: [{ emailAddress: { address: bob.address } }],
      })
    ).body;
    const { uploadUrl } = (
      await graph('POST', `me/messages/${draft.id}/attachments/createUploadSession`, {
        AttachmentItem: { attachmentType: 'file', name: 'four.bin', size: file.length },
      })
    ).body;
    expect(put(uploadUrl, file.subarray(0, 3 * MB), 0, file.length).status).toBe(200);
    expect(put(uploadUrl, file.subarray(3 * MB), 3 * MB, file.length).status).toBe(201);
    expect((await graph('POST', `me/messages/${draft.id}/send`)).status).toBe(202);
    const inbox = [...bob.wellKnown.get('inbox')!.messages];
    const received = store.attachments(inbox[inbox.length - 1]);
    expect(received.map((a) => a.name)).toEqual(['four.bin']);
    expect(sha256(Buffer.from(received[0].contentBytes, 'base64'))).toBe(sha256(file));
  });

  it('out of order, overlapping or repeated ranges: 416 InvalidRange, and the session still expects the same byte', async () => {
    const file = randomBytes(4 * MB);
    const { created } = await draftWithSession(file.length);
    const url = created.body.uploadUrl;
    const ahead = put(url, file.subarray(MB, 2 * MB), MB, file.length);
    expect(ahead.status).toBe(416);
    expect(body(ahead).error?.code).toBe('InvalidRange');
    expect(put(url, file.subarray(0, MB), 0, file.length).status).toBe(200);
    expect(put(url, file.subarray(0, MB), 0, file.length).status).toBe(416);
    expect(put(url, file.subarray(MB / 2, MB * 2), MB / 2, file.length).status).toBe(416);
    const { path, token } = parts(url);
    const status = sessions.status(ORIGIN, path, token);
    expect(status.status).toBe(200);
    expect(body(status).nextExpectedRanges).toEqual([`${MB}-${file.length - 1}`]);
  });

  it.each([
    ['no Content-Range', ''],
    ['a malformed one', 'bytes=0-9'],
    ["a total other than the session's size", `bytes 0-${MB - 1}/${5 * MB}`],
    ['a range other than the bytes sent', `bytes 0-${MB}/${4 * MB}`],
    ['a range past the end', `bytes 0-${4 * MB}/${4 * MB}`],
  ])('%s: 400 ErrorInvalidRequest', async (_what, range) => {
    const { created } = await draftWithSession(4 * MB);
    const res = put(created.body.uploadUrl, Buffer.alloc(MB), 0, 4 * MB, range);
    expect(res.status).toBe(400);
    expect(body(res).error?.code).toBe('ErrorInvalidRequest');
  });

  it('a file under 3 MB: 400 ErrorAttachmentSizeShouldNotBeLessThanMinimumSize; over 150 MB refused too', async () => {
    const small = (await draftWithSession(3 * MB - 1)).created;
    expect(small.status).toBe(400);
    expect(small.body.error?.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
    const huge = (await draftWithSession(150 * MB + 1)).created;
    expect(huge.status).toBe(400);
    expect(huge.body.error?.code).toBe('ErrorAttachmentSizeLimitExceeded');
  });

  it('expires: after expirationDateTime the upload URL answers 404 and nothing is attached', async () => {
    const file = randomBytes(4 * MB);
    const { draft, created } = await draftWithSession(file.length);
    expect(put(created.body.uploadUrl, file.subarray(0, MB), 0, file.length).status).toBe(200);
    clock += SESSION_LIFETIME_MS;
    const late = put(created.body.uploadUrl, file.subarray(MB), MB, file.length);
    expect(late.status).toBe(404);
    expect(body(late).error?.code).toBe('ErrorItemNotFound');
    expect((await graph('GET', `me/messages/${draft.id}/attachments`)).body.value).toEqual([]);
    expect(sessions.open).toBe(0);
  });

  it('a wrong authtoken is 401; DELETE cancels (204), after which the URL is 404', async () => {
    const { created } = await draftWithSession(4 * MB);
    const { path, token } = parts(created.body.uploadUrl);
    expect(sessions.put(ORIGIN, path, 'forged', `bytes 0-9/${4 * MB}`, Buffer.alloc(10)).status).toBe(401);
    expect(sessions.put(ORIGIN, path, null, `bytes 0-9/${4 * MB}`, Buffer.alloc(10)).status).toBe(401);
    expect(sessions.cancel(path, token).status).toBe(204);
    expect(sessions.status(ORIGIN, path, token).status).toBe(404);
  });

  it("another mailbox cannot open a session on alice's message (404), and only file attachments are taken", async () => {
    const { draft } = await draftWithSession(4 * MB);
    const theirs = await graph(
      'POST',
      `me/messages/${draft.id}/attachments/createUploadSession`,
      { AttachmentItem: { attachmentType: 'file', name: 'x', size: 4 * MB } },
      bob,
    );
    expect(theirs.status).toBe(404);
    const item = await graph('POST', `me/messages/${draft.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'item', name: 'x', size: 4 * MB },
    });
    expect(item.status).toBe(400);
  });
});
