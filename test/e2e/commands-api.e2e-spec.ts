import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, type Consumer } from 'kafkajs';
import { subscribeWhenReady } from '@email-core/kafka';
import { Client } from 'pg';
import {
  mailCommandRequestSchema,
  MAIL_ACTIONS,
  MAX_INLINE_ATTACHMENT_BYTES,
  Topics,
  type MailCommandQueued,
} from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';
import { requestHash } from '../../apps/producer/src/commands/command-request';

/**
 * Issue 6, the API side of mail actions, on the real producer, Postgres, Kafka and Redis Cluster and the emulator:
 * every refusal answers its 4xx code with nothing stored or queued; an accepted command is stored, readable, and
 * published once on the run's mail-commands topic, however often its id is submitted; attachments are listed and
 * streamed from the emulator byte for byte. Nothing here waits for the worker that executes commands: whatever it
 * does with them, the assertions hold.
 */

interface CommandBody {
  id: string;
  accountId: string;
  action: string;
  status: string;
  reasonCode: string | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface ApiError {
  error: string;
  message: string;
  details?: unknown;
}

interface Attachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
}

const PASSWORD = 'mailbox-password';
const MAILBOX_A = 'commands-a@contoso.example';
const MAILBOX_B = 'commands-b@fabrikam.example';
const SUBJECT = 'Quarterly numbers, attached';
const b64 = (bytes: Buffer) => bytes.toString('base64');

/** the two attachments of the message the test adds to A: text with a non-ASCII name, and random bytes */
const REPORT = Buffer.from('Quarter,Revenue\nQ3,1234\n', 'utf8');
const BINARY = randomBytes(200 * 1024);
const ATTACHMENTS = [
  { name: 'Übersicht Q3.csv', contentType: 'text/csv', bytes: REPORT },
  { name: 'raw.bin', contentType: 'application/octet-stream', bytes: BINARY },
];

describe('Mail commands API and attachments', () => {
  let product: RunningProduct;
  let db: Client;
  let kafka: Consumer;
  const queued: Array<{ key: string; value: MailCommandQueued }> = [];
  const user1 = { token: '', accountId: '' };
  const user2 = { token: '', accountId: '' };
  /** graph ids of A's and B's mirrored messages, the attachment message first in A */
  let aMessages: string[] = [];
  let bMessages: string[] = [];
  let withAttachments = '';

  const post = (token: string, body: unknown) =>
    apiCall<CommandBody & ApiError>(product.api, 'POST', '/api/v1/commands', { token, body });
  /** `POST /uploads`: the raw bytes, the name in the query */
  const upload = async (token: string, name: string, contentType: string, bytes: Buffer) => {
    const res = await fetch(`${product.api}/api/v1/uploads?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: bytes,
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        uploadId: string;
        name: string;
        contentType: string;
        size: number;
      } & ApiError,
    };
  };
  const uploadRows = async (uploadId: string) =>
    (await db.query<{ id: string }>(`SELECT id FROM command_uploads WHERE id = $1`, [uploadId])).rows;
  const get = (token: string, id: string) =>
    apiCall<CommandBody & ApiError>(product.api, 'GET', `/api/v1/commands/${encodeURIComponent(id)}`, {
      token,
    });

  const counts = async () => {
    const r = await db.query<{ commands: number; attachments: number; outbox: number }>(
      `SELECT (SELECT count(*)::int FROM mail_commands) AS commands,
              (SELECT count(*)::int FROM mail_command_attachments) AS attachments,
              (SELECT count(*)::int FROM outbox WHERE message_type = 'mail.command') AS outbox`,
    );
    return r.rows[0];
  };
  const stored = async (id: string) =>
    (
      await db.query<{ id: string; request: Record<string, unknown>; request_hash: string; status: string }>(
        `SELECT id, request, request_hash, status FROM mail_commands WHERE id = $1`,
        [id],
      )
    ).rows;
  const outboxRows = async (id: string) =>
    (
      await db.query<{ topic: string; message_key: string; payload: MailCommandQueued }>(
        `SELECT topic, message_key, payload FROM outbox WHERE payload->>'commandId' = $1`,
        [id],
      )
    ).rows;
  const mirrorIds = async (accountId: string) =>
    (
      await db.query<{ remote_id: string }>(
        `SELECT remote_id FROM messages WHERE account_id = $1 ORDER BY (subject = $2) DESC, received_at DESC`,
        [accountId, SUBJECT],
      )
    ).rows.map((r) => r.remote_id);

  beforeAll(async () => {
    product = await startProduct();
    for (const [address, displayName] of [
      [MAILBOX_A, 'Cora Commands'],
      [MAILBOX_B, 'Bram Other'],
    ]) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName,
        password: PASSWORD,
        seed: { messages: 30, folders: 2, seed: 11 },
      });
    }
    await product.emulator.admin('POST', `/_emulator/mailboxes/${MAILBOX_A}/messages`, {
      subject: SUBJECT,
      body: { contentType: 'text', content: 'See attached.' },
      from: { emailAddress: { name: 'Carol Chen', address: 'carol@contoso.example' } },
      attachments: ATTACHMENTS.map((a) => ({
        name: a.name,
        contentType: a.contentType,
        contentBytes: b64(a.bytes),
      })),
    });

    db = new Client({ connectionString: currentTestRun().databaseUrl });
    await db.connect();
    const run = currentTestRun();
    kafka = new Kafka({ clientId: 'commands-api-e2e', brokers: run.kafkaBrokers, logLevel: 0 }).consumer({
      groupId: `commands-api-e2e-${Date.now()}`,
    });
    await kafka.connect();
    await subscribeWhenReady(kafka, {
      topics: [`${run.topicPrefix}${Topics.mailCommands}`],
      fromBeginning: true,
    });
    await kafka.run({
      eachMessage: ({ message }) => {
        queued.push({
          key: message.key?.toString() ?? '',
          value: JSON.parse(message.value?.toString() ?? '{}') as MailCommandQueued,
        });
        return Promise.resolve();
      },
    });

    for (const [user, address] of [
      [user1, MAILBOX_A],
      [user2, MAILBOX_B],
    ] as const) {
      user.token = (await signUp(product.api)).token;
      await linkOutlook(product, user.token, address, PASSWORD);
      user.accountId = (await waitForAccountStatus(product.api, user.token, 'synced')).id;
    }
    aMessages = await mirrorIds(user1.accountId);
    bMessages = await mirrorIds(user2.accountId);
    withAttachments = aMessages[0];
  }, 240000);

  afterAll(async () => {
    await kafka?.disconnect();
    await db?.end();
    await product?.stop();
  });

  it('has the mirrors it needs (both mailboxes synced, the attachment message in A)', async () => {
    expect(aMessages.length).toBeGreaterThan(10);
    expect(bMessages.length).toBeGreaterThan(10);
    const subject = await db.query<{ subject: string; has_attachments: boolean }>(
      `SELECT subject, has_attachments FROM messages WHERE account_id = $1 AND remote_id = $2`,
      [user1.accountId, withAttachments],
    );
    expect(subject.rows[0]).toEqual({ subject: SUBJECT, has_attachments: true });
  });

  it('publishes the routes in the OpenAPI document', async () => {
    const res = await fetch(`${product.api}/api/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { oneOf?: unknown[] } }> } }>
      >;
    };
    expect(Object.keys(doc.paths['/api/v1/commands'])).toEqual(['post']);
    expect(
      doc.paths['/api/v1/commands'].post.requestBody?.content['application/json'].schema.oneOf,
    ).toHaveLength(MAIL_ACTIONS.length);
    expect(Object.keys(doc.paths['/api/v1/commands/{id}'])).toEqual(['get']);
    expect(doc.paths['/api/v1/messages/{messageId}/attachments']).toHaveProperty('get');
    expect(doc.paths['/api/v1/messages/{messageId}/attachments/{attachmentId}/content']).toHaveProperty(
      'get',
    );
  });

  describe('refusals: a 4xx with its code, and nothing stored or queued', () => {
    const a = () => user1.accountId;
    const big = () => b64(Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES + 1, 1));
    const send = (extra: Record<string, unknown>) => ({
      accountId: a(),
      action: 'send',
      subject: 'hi',
      body: { content: 'hello' },
      toRecipients: [{ address: MAILBOX_B }],
      ...extra,
    });
    const cases: Array<[string, () => Record<string, unknown>, number, string]> = [
      [
        "another user's account",
        () => ({ accountId: user2.accountId, action: 'delete', messageIds: [bMessages[1]] }),
        404,
        'ACCOUNT_NOT_FOUND',
      ],
      [
        'an unknown account',
        () => ({ accountId: randomUUID(), action: 'delete', messageIds: [aMessages[1]] }),
        404,
        'ACCOUNT_NOT_FOUND',
      ],
      [
        "another user's message",
        () => ({
          accountId: a(),
          action: 'markRead',
          isRead: true,
          messageIds: [aMessages[1], bMessages[1]],
        }),
        404,
        'MESSAGE_NOT_FOUND',
      ],
      [
        'an unknown message',
        () => ({ accountId: a(), action: 'flag', flagStatus: 'flagged', messageIds: ['AAMkAGnothere='] }),
        404,
        'MESSAGE_NOT_FOUND',
      ],
      [
        "a reply to another user's message",
        () => ({ accountId: a(), action: 'reply', messageId: bMessages[2], comment: 'x' }),
        404,
        'MESSAGE_NOT_FOUND',
      ],
      [
        'a move to an unknown folder',
        () => ({
          accountId: a(),
          action: 'move',
          messageIds: [aMessages[1]],
          destinationFolderId: 'AAMkAGnofolder=',
        }),
        422,
        'UNKNOWN_FOLDER',
      ],
      [
        'a move to a well-known name the mailbox lacks',
        () => ({
          accountId: a(),
          action: 'move',
          messageIds: [aMessages[1]],
          destinationFolderId: 'clutter',
        }),
        422,
        'UNKNOWN_FOLDER',
      ],
      ['a mail to nobody', () => send({ toRecipients: [] }), 400, 'NO_RECIPIENTS'],
      [
        'a forward to nobody',
        () => ({ accountId: a(), action: 'forward', messageId: aMessages[1], toRecipients: [] }),
        400,
        'NO_RECIPIENTS',
      ],
      [
        // inline attachments count against the 4 MiB JSON limit: large ones are uploaded (POST /uploads)
        'an inline attachment one byte over 3 MB (its base64 is over the JSON limit)',
        () =>
          send({
            attachments: [
              { name: 'ok.txt', contentBase64: b64(REPORT) },
              { name: 'huge.bin', contentBase64: big() },
            ],
          }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'an attachment naming an unknown upload',
        () => send({ attachments: [{ uploadId: randomUUID() }] }),
        404,
        'UPLOAD_NOT_FOUND',
      ],
      [
        'an attachment that is not base64',
        () => send({ attachments: [{ name: 'x.txt', contentBase64: 'not*base64' }] }),
        400,
        'INVALID_ATTACHMENT',
      ],
      [
        '501 message ids',
        () => ({
          accountId: a(),
          action: 'delete',
          messageIds: Array.from({ length: 501 }, () => aMessages[1]),
        }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown action',
        () => ({ accountId: a(), action: 'archive', messageIds: [aMessages[1]] }),
        400,
        'VALIDATION_FAILED',
      ],
    ];

    it.each(cases)('%s', async (_what, body, status, code) => {
      const before = await counts();
      const id = randomUUID();
      const res = await post(user1.token, { id, ...body() });
      expect({ status: res.status, error: res.body.error }).toEqual({ status, error: code });
      expect(typeof res.body.message).toBe('string');
      expect(await stored(id)).toEqual([]);
      expect(await outboxRows(id)).toEqual([]);
      expect(await counts()).toEqual(before);
    });

    it('an upload over 3 MB in one request: 413 ATTACHMENT_TOO_LARGE, pointing to upload sessions', async () => {
      const res = await upload(
        user1.token,
        'huge.bin',
        'application/octet-stream',
        Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES + 1, 1),
      );
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('ATTACHMENT_TOO_LARGE');
      expect(res.body.message).toMatch(/in chunks \(POST \/uploads\/sessions/);
      expect(res.body.details).toEqual({ maxBytes: MAX_INLINE_ATTACHMENT_BYTES });
    });

    it("another user's upload: 404 UPLOAD_NOT_FOUND, and the upload stays theirs", async () => {
      const theirs = await upload(user2.token, 'theirs.txt', 'text/plain', Buffer.from('not yours'));
      expect(theirs.status).toBe(201);
      const before = await counts();
      const res = await post(user1.token, send({ attachments: [{ uploadId: theirs.body.uploadId }] }));
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 404,
        error: 'UPLOAD_NOT_FOUND',
      });
      expect(await counts()).toEqual(before);
      expect(await uploadRows(theirs.body.uploadId)).toHaveLength(1);
    });

    it('answers a body over the route limit 413 PAYLOAD_TOO_LARGE in the API error shape', async () => {
      const before = await counts();
      const res = await fetch(`${product.api}/api/v1/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user1.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          send({ attachments: [{ name: 'x', contentBase64: 'A'.repeat(5 * 1024 * 1024) }] }),
        ),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as ApiError).error).toBe('PAYLOAD_TOO_LARGE');
      expect(await counts()).toEqual(before);
    });

    it('keeps the 100 kB limit on every other route', async () => {
      const body = { email: 'x@example.test', password: 'p'.repeat(200 * 1024) };
      const res = await apiCall<ApiError>(product.api, 'POST', '/api/v1/auth/signin', { body });
      // refused by the global parser before sign-in looks at it (a parsed body would be 400 or 401)
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
      const small = await apiCall<ApiError>(product.api, 'POST', '/api/v1/auth/signin', {
        body: { ...body, password: 'p'.repeat(90 * 1024) },
      });
      expect(small.status).toBe(400);
    });

    it('401 without a token', async () => {
      const res = await apiCall<ApiError>(product.api, 'POST', '/api/v1/commands', {
        body: { accountId: user1.accountId, action: 'delete', messageIds: [aMessages[1]] },
      });
      expect(res.status).toBe(401);
    });
  });

  describe('an accepted command', () => {
    const id = randomUUID();
    const body = () => ({
      id,
      accountId: user1.accountId,
      action: 'markRead',
      isRead: true,
      messageIds: [aMessages[3], aMessages[4]],
    });

    it('is answered 202 queued, stored, readable and published once on the mail-commands topic', async () => {
      const res = await post(user1.token, body());
      expect(res.status).toBe(202);
      expect(res.body).toEqual({
        id,
        accountId: user1.accountId,
        action: 'markRead',
        status: 'queued',
        reasonCode: null,
        reason: null,
        draftId: null,
        createdAt: expect.any(String) as string,
        updatedAt: expect.any(String) as string,
      });

      const read = await get(user1.token, id);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, accountId: user1.accountId, action: 'markRead' });
      // the worker may already have moved it on: any status is a real one
      expect(['queued', 'sent', 'done', 'failed']).toContain(read.body.status);

      const rows = await stored(id);
      expect(rows).toHaveLength(1);
      expect(rows[0].request).toEqual({
        accountId: user1.accountId,
        action: 'markRead',
        isRead: true,
        messageIds: [aMessages[3], aMessages[4]],
      });
      expect(rows[0].request_hash).toBe(requestHash(mailCommandRequestSchema.parse(body())));
      const outbox = await outboxRows(id);
      expect(outbox).toHaveLength(1);
      expect(outbox[0]).toMatchObject({ topic: Topics.mailCommands, message_key: user1.accountId });

      const message = await waitFor(() => Promise.resolve(queued.find((m) => m.value.commandId === id)), {
        timeoutMs: 30000,
        what: 'the mail.command message',
      });
      expect(message.key).toBe(user1.accountId);
      expect(message.value).toEqual({
        type: 'mail.command',
        v: 1,
        commandId: id,
        accountId: user1.accountId,
        action: 'markRead',
        queuedAt: expect.any(String) as string,
      });
    });

    it('submitted again with the same request: 200 with its current status, nothing queued twice', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await post(user1.token, body());
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id, accountId: user1.accountId, action: 'markRead' });
        expect(['queued', 'sent', 'done', 'failed']).toContain(res.body.status);
      }
      // concurrently, too
      const racing = await Promise.all(Array.from({ length: 5 }, () => post(user1.token, body())));
      expect(racing.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await stored(id)).toHaveLength(1);
      expect(await outboxRows(id)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 2000));
      expect(queued.filter((m) => m.value.commandId === id)).toHaveLength(1);
    });

    it('the same id with another request, or from another user: 409 COMMAND_ID_CONFLICT', async () => {
      const other = await post(user1.token, { ...body(), isRead: false });
      expect({ status: other.status, error: other.body.error }).toEqual({
        status: 409,
        error: 'COMMAND_ID_CONFLICT',
      });
      const stranger = await post(user2.token, {
        id,
        accountId: user2.accountId,
        action: 'markRead',
        isRead: true,
        messageIds: [bMessages[3]],
      });
      expect({ status: stranger.status, error: stranger.body.error }).toEqual({
        status: 409,
        error: 'COMMAND_ID_CONFLICT',
      });
      expect(await outboxRows(id)).toHaveLength(1);
    });

    it("another user's GET, an unknown id and a malformed one: 404 COMMAND_NOT_FOUND", async () => {
      for (const [token, which] of [
        [user2.token, id],
        [user1.token, randomUUID()],
        [user1.token, 'not-a-uuid'],
      ]) {
        const res = await get(token, which);
        expect({ status: res.status, error: res.body.error }).toEqual({
          status: 404,
          error: 'COMMAND_NOT_FOUND',
        });
      }
    });

    it('a command without an id gets one', async () => {
      const res = await post(user1.token, {
        accountId: user1.accountId,
        action: 'flag',
        flagStatus: 'flagged',
        messageIds: [aMessages[5]],
      });
      expect(res.status).toBe(202);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await outboxRows(res.body.id)).toHaveLength(1);
    });

    it('a move names its folder by id or well-known name; the stored command carries the id', async () => {
      const archive = await db.query<{ remote_id: string }>(
        `SELECT remote_id FROM mail_folders WHERE account_id = $1 AND well_known_name = 'archive'`,
        [user1.accountId],
      );
      const res = await post(user1.token, {
        accountId: user1.accountId,
        action: 'move',
        messageIds: [aMessages[6]],
        destinationFolderId: 'archive',
      });
      expect(res.status).toBe(202);
      expect((await stored(res.body.id))[0].request.destinationFolderId).toBe(archive.rows[0].remote_id);
    });

    it('a mail with two attachments is stored with their bytes apart from the request, which holds none', async () => {
      const id2 = randomUUID();
      const mail = {
        id: id2,
        accountId: user1.accountId,
        action: 'send',
        subject: 'Two files',
        body: { contentType: 'text', content: 'Both attached.' },
        toRecipients: [{ address: MAILBOX_B, name: 'Bram' }],
        attachments: ATTACHMENTS.map((a) => ({
          name: a.name,
          contentType: a.contentType,
          contentBase64: b64(a.bytes),
        })),
      };
      const res = await post(user1.token, mail);
      expect(res.status).toBe(202);
      const [row] = await stored(id2);
      expect(row.request.attachments).toEqual(
        ATTACHMENTS.map((a) => ({ name: a.name, contentType: a.contentType, size: a.bytes.length })),
      );
      expect(JSON.stringify(row.request)).not.toContain(b64(BINARY).slice(0, 64));
      expect(row.request_hash).toBe(requestHash(mailCommandRequestSchema.parse(mail)));
      const files = await db.query<{ name: string; content: Buffer; size: number }>(
        `SELECT name, content, size FROM mail_command_attachments WHERE command_id = $1 ORDER BY position`,
        [id2],
      );
      if (files.rows.length > 0) {
        expect(
          files.rows.map((f) => [
            f.name,
            f.size,
            f.content.equals(ATTACHMENTS.find((a) => a.name === f.name)!.bytes),
          ]),
        ).toEqual(ATTACHMENTS.map((a) => [a.name, a.bytes.length, true]));
      } else {
        // the worker has already handed them to Graph (it drops them then): the command must have moved on
        expect(row.status).not.toBe('queued');
      }
      expect(await outboxRows(id2)).toHaveLength(1);
    });
  });

  describe('a mail whose attachments were uploaded beforehand', () => {
    it('moves the uploaded bytes into the command, beside an inline one, in order; the upload is gone', async () => {
      const big = randomBytes(MAX_INLINE_ATTACHMENT_BYTES);
      const up = await upload(user1.token, 'Große Datei.bin', 'application/octet-stream', big);
      expect(up.status).toBe(201);
      expect(up.body).toMatchObject({
        name: 'Große Datei.bin',
        contentType: 'application/octet-stream',
        size: big.length,
      });
      const id = randomUUID();
      const mail = {
        id,
        accountId: user1.accountId,
        action: 'send',
        subject: 'Uploaded',
        body: { content: 'see attached' },
        toRecipients: [{ address: MAILBOX_B }],
        attachments: [
          { name: 'note.txt', contentType: 'text/plain', contentBase64: b64(REPORT) },
          { uploadId: up.body.uploadId },
        ],
      };
      const res = await post(user1.token, mail);
      expect(res.status).toBe(202);
      const [row] = await stored(id);
      expect(row.request.attachments).toEqual([
        { name: 'note.txt', contentType: 'text/plain', size: REPORT.length },
        { name: 'Große Datei.bin', contentType: 'application/octet-stream', size: big.length },
      ]);
      expect(row.request_hash).toBe(requestHash(mailCommandRequestSchema.parse(mail)));
      expect(await uploadRows(up.body.uploadId)).toEqual([]);
      const files = await db.query<{ position: number; name: string; content: Buffer }>(
        `SELECT position, name, content FROM mail_command_attachments WHERE command_id = $1 ORDER BY position`,
        [id],
      );
      if (files.rows.length > 0) {
        expect(files.rows.map((f) => [f.position, f.name])).toEqual([
          [0, 'note.txt'],
          [1, 'Große Datei.bin'],
        ]);
        expect(files.rows[1].content.equals(big)).toBe(true);
      } else {
        // the worker has already handed them to Graph (it drops them then): the command must have moved on
        expect(row.status).not.toBe('queued');
      }
      expect(await outboxRows(id)).toHaveLength(1);
      // the same command again: 200, the same command (the upload, now spent, is not looked for again)
      const again = await post(user1.token, mail);
      expect(again.status).toBe(200);
      // a new command naming the spent upload: 404
      const reuse = await post(user1.token, { ...mail, id: randomUUID() });
      expect({ status: reuse.status, error: reuse.body.error }).toEqual({
        status: 404,
        error: 'UPLOAD_NOT_FOUND',
      });
    });
  });

  describe('attachments, read from Outlook on demand', () => {
    let listed: Attachment[] = [];

    it("lists a message's attachments without their content", async () => {
      const res = await apiCall<{ items: Attachment[] }>(
        product.api,
        'GET',
        `/api/v1/messages/${encodeURIComponent(withAttachments)}/attachments`,
        { token: user1.token },
      );
      expect(res.status).toBe(200);
      listed = res.body.items;
      expect(
        listed.map(({ name, contentType, size, isInline }) => ({ name, contentType, size, isInline })),
      ).toEqual(
        ATTACHMENTS.map((a) => ({
          name: a.name,
          contentType: a.contentType,
          size: a.bytes.length,
          isInline: false,
        })),
      );
      for (const item of listed)
        expect(Object.keys(item).sort()).toEqual([
          'contentId',
          'contentType',
          'id',
          'isInline',
          'name',
          'size',
        ]);
    });

    it('streams each one byte for byte as a download', async () => {
      expect(listed).toHaveLength(2);
      for (const [i, item] of listed.entries()) {
        const res = await fetch(
          `${product.api}/api/v1/messages/${encodeURIComponent(withAttachments)}/attachments/${encodeURIComponent(item.id)}/content`,
          { headers: { authorization: `Bearer ${user1.token}` } },
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(new RegExp(`^${ATTACHMENTS[i].contentType}`));
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-disposition')).toBe(
          `attachment; filename="${ATTACHMENTS[i].name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(ATTACHMENTS[i].name)}`,
        );
        expect(Buffer.from(await res.arrayBuffer()).equals(ATTACHMENTS[i].bytes)).toBe(true);
      }
    });

    it("another user's message: 404 MESSAGE_NOT_FOUND for the list and the download", async () => {
      const list = await apiCall<ApiError>(
        product.api,
        'GET',
        `/api/v1/messages/${encodeURIComponent(withAttachments)}/attachments`,
        {
          token: user2.token,
        },
      );
      expect({ status: list.status, error: list.body.error }).toEqual({
        status: 404,
        error: 'MESSAGE_NOT_FOUND',
      });
      const download = await apiCall<ApiError>(
        product.api,
        'GET',
        `/api/v1/messages/${encodeURIComponent(withAttachments)}/attachments/${encodeURIComponent(listed[0].id)}/content`,
        { token: user2.token },
      );
      expect({ status: download.status, error: download.body.error }).toEqual({
        status: 404,
        error: 'MESSAGE_NOT_FOUND',
      });
    });

    it('an unknown attachment: 404 ATTACHMENT_NOT_FOUND; an unknown message: 404 MESSAGE_NOT_FOUND', async () => {
      const unknown = await apiCall<ApiError>(
        product.api,
        'GET',
        `/api/v1/messages/${encodeURIComponent(withAttachments)}/attachments/nope/content`,
        { token: user1.token },
      );
      expect({ status: unknown.status, error: unknown.body.error }).toEqual({
        status: 404,
        error: 'ATTACHMENT_NOT_FOUND',
      });
      const noMessage = await apiCall<ApiError>(
        product.api,
        'GET',
        `/api/v1/messages/AAMkAGnothere%3D/attachments`,
        {
          token: user1.token,
        },
      );
      expect({ status: noMessage.status, error: noMessage.body.error }).toEqual({
        status: 404,
        error: 'MESSAGE_NOT_FOUND',
      });
    });
  });
});
