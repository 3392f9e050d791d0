import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { Client } from 'pg';
import { MAX_ATTACHMENT_BYTES, UPLOAD_CHUNK_MAX_BYTES } from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  devMailServer,
  linkDevImap,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  withDevImapSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

interface Session {
  uploadId: string;
  size: number;
  received: number;
  complete: boolean;
  chunkMaxBytes: number;
  error?: string;
  message?: string;
  details?: { received?: number };
}
interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
  reasonCode: string | null;
  reason: string | null;
}
interface Export {
  messages: Array<{ id: string; subject: string; parentFolderId: string }>;
  folders: Array<{ id: string; wellKnownName: string | null }>;
}

const MB = 1024 * 1024;
/** the figure: a 40 MB attachment, while the producer's RSS stays under 300 MB */
const FILE_BYTES = 40 * MB;
/** 300 MB as the issue writes it (decimal), the stricter reading */
const RSS_LIMIT = 300_000_000;
/**
 * The producer's V8 flags as `npm start` runs it (scripts/start.ts): a small young generation, so the buffers of
 * upload chunks are freed by frequent scavenges instead of piling up to V8's external-memory threshold (about
 * 64 MB) before a full collection (docs/attachments.md, "Memory").
 */
const PRODUCER_NODE_ARGS = ['--max-semi-space-size=2'];
const PASSWORD = 'mailbox-password';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MiB (${(bytes / 1e6).toFixed(1)} MB)`;

/** the producer's resident memory, from /proc (what `ps` shows as RSS) */
function rss(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** samples the producer's RSS every 50 ms until stopped; the peak is what the issue bounds */
function sampleRss(pid: number | undefined) {
  let peak = rss(pid);
  const start = peak;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(pid));
  }, 50);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, rss(pid));
      return peak;
    },
  };
}

/**
 * Large attachments end to end (issue 23), on the real producer, consumer, Postgres, Kafka, Redis Cluster, the
 * emulator and the stack's Postfix and Dovecot: a 40 MB file is uploaded to the API in 4 MiB chunks (an upload
 * session) and sent by a `send` command, from an Outlook account (Graph upload session on a draft, then send) and
 * from an IMAP account (SMTP within the server's SIZE, the Sent copy), and arrives intact: its SHA-256 is compared
 * at the provider, the emulator's delivered message and an independent IMAP read of the recipient's dev mailbox.
 * The producer's RSS is sampled from /proc during the upload and the send, its peak printed and held under 300 MB;
 * the durations are printed too. The session API's refusals come first.
 */
describe('Large attachments: upload sessions, Graph upload sessions, SMTP', () => {
  let product: RunningProduct;
  let db: Client;
  let mail: DevMailServer;
  const tag = randomBytes(3).toString('hex');
  const outlookSender = `big-sender-${tag}@contoso.example`;
  const outlookRecipient = `big-recipient-${tag}@fabrikam.example`;
  const imapSender = `big-imap-${tag}@large-attachments.example`;
  const imapRecipient = `big-imap-to-${tag}@large-attachments.example`;
  const outlook = { token: '', accountId: '' };
  const imap = { token: '', accountId: '' };
  const figures: string[] = [];

  const createSession = (token: string, body: unknown) =>
    apiCall<Session>(product.api, 'POST', '/api/v1/uploads/sessions', { token, body });
  const putChunk = async (token: string | undefined, id: string, bytes: Buffer, range: string) => {
    const res = await fetch(`${product.api}/api/v1/uploads/${id}`, {
      method: 'PUT',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/octet-stream',
        'content-range': range,
      },
      body: bytes,
    });
    return { status: res.status, body: (await res.json()) as Session };
  };
  /** the whole file through a session, chunk after chunk, as the dashboard sends it */
  const upload = async (token: string, name: string, file: Buffer) => {
    const created = await createSession(token, { name, contentType: 'application/zip', size: file.length });
    expect(created.status).toBe(201);
    let session = created.body;
    while (!session.complete) {
      const end = Math.min(session.received + UPLOAD_CHUNK_MAX_BYTES, file.length);
      const res = await putChunk(
        token,
        session.uploadId,
        file.subarray(session.received, end),
        `bytes ${session.received}-${end - 1}/${file.length}`,
      );
      expect(res.status).toBe(200);
      session = res.body;
    }
    return session.uploadId;
  };
  const sendAndWait = async (token: string, accountId: string, body: Record<string, unknown>) => {
    const res = await apiCall<CommandView>(product.api, 'POST', '/api/v1/commands', {
      token,
      body: { accountId, action: 'send', ...body },
    });
    expect(res.status).toBe(202);
    return waitFor(
      async () => {
        const c = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${res.body.id}`, {
          token,
        });
        return c.body.status === 'done' || c.body.status === 'failed' ? c.body : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: 'the send command to finish' },
    );
  };
  /** upload + send, the producer's RSS sampled throughout; answers the command and the figures */
  const measured = async (who: string, token: string, accountId: string, file: Buffer, to: string) => {
    const subject = `Forty megabytes from ${who} ${tag}`;
    const sampler = sampleRss(product.producer.child.pid);
    const worker = sampleRss(product.consumer.child.pid);
    const t0 = Date.now();
    const uploadId = await upload(token, `${who}.bin`, file);
    const t1 = Date.now();
    const command = await sendAndWait(token, accountId, {
      subject,
      body: { contentType: 'text', content: `a ${mb(file.length)} attachment` },
      toRecipients: [{ address: to }],
      attachments: [{ uploadId }],
    });
    const t2 = Date.now();
    const peak = sampler.stop();
    const workerPeak = worker.stop();
    const line =
      `${who}: ${mb(file.length)} uploaded in ${t1 - t0} ms (${Math.ceil(file.length / UPLOAD_CHUNK_MAX_BYTES)} chunks), ` +
      `sent in ${t2 - t1} ms (command queued to ${command.status}); producer RSS ${mb(sampler.start)} before, ` +
      `peak ${mb(peak)} (limit ${mb(RSS_LIMIT)}); consumer RSS ${mb(worker.start)} before, peak ${mb(workerPeak)}`;
    figures.push(line);
    process.stdout.write(`large attachment, ${line}\n`);
    return { command, peak, subject };
  };

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('the stack mail server is not running (npm run stack:up)');
    mail = server;
    // the producer as deployed (`nest build`'s bundle, what the Dockerfile runs): its memory is what the issue
    // bounds; compiled on the fly by @swc-node/register it idles at about 310 MiB before any upload
    product = await startProduct({
      producerSpawn: { built: true, nodeArgs: PRODUCER_NODE_ARGS },
    });
    db = new Client({ connectionString: currentTestRun().databaseUrl });
    await db.connect();
    for (const address of [outlookSender, outlookRecipient]) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address.split('@')[0],
        password: PASSWORD,
        seed: { messages: 3, seed: 7 },
      });
    }
    outlook.token = (await signUp(product.api)).token;
    await linkOutlook(product, outlook.token, outlookSender, PASSWORD);
    outlook.accountId = (await waitForAccountStatus(product.api, outlook.token, 'synced')).id;

    imap.token = (await signUp(product.api)).token;
    // the dev mailboxes exist once they receive mail or log in; the sender logs in when linked
    await withDevImapSession(mail, imapRecipient, () => Promise.resolve());
    imap.accountId = await linkDevImap(product.api, imap.token, mail, imapSender);
    await waitForAccountStatus(product.api, imap.token, 'synced', {
      accountId: imap.accountId,
      timeoutMs: 60_000,
    });
  }, 480_000);

  afterAll(async () => {
    if (figures.length) process.stdout.write(`\nlarge attachments, figures:\n  ${figures.join('\n  ')}\n`);
    await db?.end();
    await product?.stop();
  });

  it('Outlook: a 40 MB attachment goes through a Graph upload session and arrives intact; producer RSS under 300 MB', async () => {
    const file = randomBytes(FILE_BYTES);
    const { command, peak, subject } = await measured(
      'outlook',
      outlook.token,
      outlook.accountId,
      file,
      outlookRecipient,
    );
    expect([command.status, command.reasonCode, command.reason]).toEqual(['done', null, null]);
    // at the provider: the recipient's copy in the emulator, its bytes' SHA-256
    const exp = await product.emulator.admin<Export>(
      'GET',
      `/_emulator/mailboxes/${outlookRecipient}/export?bodies=false`,
    );
    const inbox = exp.folders.find((f) => f.wellKnownName === 'inbox')!.id;
    const received = exp.messages.find((m) => m.subject === subject && m.parentFolderId === inbox);
    expect(received).toBeDefined();
    const files = await product.emulator.admin<{
      value: Array<{ name: string; size: number; sha256: string }>;
    }>('GET', `/_emulator/mailboxes/${outlookRecipient}/messages/${received!.id}/attachments`);
    expect(files.value).toEqual([
      {
        name: 'outlook.bin',
        size: file.length,
        sha256: sha256(file),
        contentType: 'application/zip',
        isInline: false,
      },
    ]);
    // the staged bytes are gone once Graph has them
    const left = await db.query(`SELECT 1 FROM attachment_chunks WHERE command_id = $1`, [command.id]);
    expect(left.rows).toEqual([]);
    expect(peak).toBeLessThan(RSS_LIMIT);
  }, 300_000);

  it("IMAP: a 40 MB attachment goes by SMTP within the server's SIZE, arrives intact, and Sent keeps a copy; producer RSS under 300 MB", async () => {
    const file = randomBytes(FILE_BYTES);
    const { command, peak, subject } = await measured(
      'imap',
      imap.token,
      imap.accountId,
      file,
      imapRecipient,
    );
    expect([command.status, command.reasonCode, command.reason]).toEqual(['done', null, null]);
    // an independent IMAP read of the recipient's dev mailbox: the attachment's bytes, parsed from the source
    const attachments = await waitFor(
      () =>
        withDevImapSession(mail, imapRecipient, async (client) => {
          const lock = await client.getMailboxLock('INBOX');
          try {
            for await (const m of client.fetch('1:*', { envelope: true, source: true })) {
              if (m.envelope?.subject !== subject || !m.source) continue;
              return (await simpleParser(m.source)).attachments;
            }
            return undefined;
          } finally {
            lock.release();
          }
        }),
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the mail in the recipient mailbox' },
    );
    expect(attachments.map((a) => [a.filename, a.size])).toEqual([['imap.bin', file.length]]);
    expect(sha256(attachments[0].content)).toBe(sha256(file));
    // the Sent copy, once
    const inSent = await withDevImapSession(mail, imapSender, async (client) => {
      const lock = await client.getMailboxLock('Sent');
      try {
        return (await client.search({ subject }, { uid: true })) || [];
      } finally {
        lock.release();
      }
    });
    expect(inSent).toHaveLength(1);
    expect(peak).toBeLessThan(RSS_LIMIT);
  }, 300_000);
  it("a 150 MB file uploads with the producer's RSS growing by far less than the file: memory is bounded by the chunk", async () => {
    const { token } = await signUp(product.api);
    const file = randomBytes(MAX_ATTACHMENT_BYTES);
    const sampler = sampleRss(product.producer.child.pid);
    const t0 = Date.now();
    const uploadId = await upload(token, 'largest.bin', file);
    const ms = Date.now() - t0;
    const peak = sampler.stop();
    const stored = await db.query<{ n: number; bytes: string }>(
      `SELECT count(*)::int AS n, sum(length(data))::text AS bytes FROM attachment_chunks WHERE upload_id = $1`,
      [uploadId],
    );
    expect(stored.rows[0]).toEqual({
      n: Math.ceil(file.length / UPLOAD_CHUNK_MAX_BYTES),
      bytes: String(file.length),
    });
    const line = `upload only: ${mb(file.length)} in ${ms} ms; producer RSS ${mb(sampler.start)} before, peak ${mb(peak)}`;
    figures.push(line);
    process.stdout.write(`large attachment, ${line}\n`);
    // what grows is the allocator's and the garbage collector's slack, not the file: well under the file's size
    expect(peak - sampler.start).toBeLessThan(100 * MB);
  }, 300_000);

  describe('the upload session API', () => {
    it('refuses a chunk before reading it without a valid token (401), and one over 4 MiB (413 CHUNK_TOO_LARGE)', async () => {
      const created = await createSession(outlook.token, { name: 'a.bin', size: 5 * MB });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        received: 0,
        complete: false,
        chunkMaxBytes: UPLOAD_CHUNK_MAX_BYTES,
      });
      const id = created.body.uploadId;
      expect((await putChunk(undefined, id, Buffer.alloc(10), `bytes 0-9/${5 * MB}`)).status).toBe(401);
      const big = await putChunk(
        outlook.token,
        id,
        Buffer.alloc(UPLOAD_CHUNK_MAX_BYTES + 1),
        `bytes 0-${UPLOAD_CHUNK_MAX_BYTES}/${5 * MB}`,
      );
      expect([big.status, big.body.error]).toEqual([413, 'CHUNK_TOO_LARGE']);
      // someone else's session reads like a missing one
      expect((await putChunk(imap.token, id, Buffer.alloc(10), `bytes 0-9/${5 * MB}`)).status).toBe(404);
      const state = await apiCall<Session>(product.api, 'GET', `/api/v1/uploads/${id}`, {
        token: outlook.token,
      });
      expect(state.body).toMatchObject({ received: 0, size: 5 * MB });
    });

    it('takes chunks in order only (416 with where to resume), answers a repeated chunk as stored, and a command naming it before it is complete gets 409 UPLOAD_INCOMPLETE', async () => {
      const file = randomBytes(5 * MB);
      const { body: s } = await createSession(outlook.token, { name: 'b.bin', size: file.length });
      const first = await putChunk(
        outlook.token,
        s.uploadId,
        file.subarray(0, 2 * MB),
        `bytes 0-${2 * MB - 1}/${file.length}`,
      );
      expect(first.body).toMatchObject({ received: 2 * MB, complete: false });
      const again = await putChunk(
        outlook.token,
        s.uploadId,
        file.subarray(0, 2 * MB),
        `bytes 0-${2 * MB - 1}/${file.length}`,
      );
      expect([again.status, again.body.received]).toEqual([200, 2 * MB]);
      const ahead = await putChunk(
        outlook.token,
        s.uploadId,
        file.subarray(3 * MB),
        `bytes ${3 * MB}-${file.length - 1}/${file.length}`,
      );
      expect([ahead.status, ahead.body.error, ahead.body.details?.received]).toEqual([
        416,
        'UPLOAD_RANGE_NOT_EXPECTED',
        2 * MB,
      ]);
      const bad = await putChunk(
        outlook.token,
        s.uploadId,
        file.subarray(2 * MB, 3 * MB),
        `bytes ${2 * MB}-${3 * MB}/${file.length}`,
      );
      expect([bad.status, bad.body.error]).toEqual([400, 'INVALID_CONTENT_RANGE']);

      const early = await apiCall<Session>(product.api, 'POST', '/api/v1/commands', {
        token: outlook.token,
        body: {
          accountId: outlook.accountId,
          action: 'send',
          subject: 'too early',
          body: { content: 'x' },
          toRecipients: [{ address: outlookRecipient }],
          attachments: [{ uploadId: s.uploadId }],
        },
      });
      expect([early.status, early.body.error]).toEqual([409, 'UPLOAD_INCOMPLETE']);
      // the chunks stored are rows of attachment_chunks, owned by the upload
      const rows = await db.query<{ n: number; bytes: number }>(
        `SELECT count(*)::int AS n, sum(length(data))::int AS bytes FROM attachment_chunks WHERE upload_id = $1`,
        [s.uploadId],
      );
      expect(rows.rows[0]).toEqual({ n: 1, bytes: 2 * MB });
    });

    it('refuses a file over 150 MB, and more than 512 MiB waiting per user (409 TOO_MANY_UPLOAD_BYTES) until one is deleted', async () => {
      const { token } = await signUp(product.api);
      const huge = await createSession(token, { name: 'huge.bin', size: MAX_ATTACHMENT_BYTES + 1 });
      expect([huge.status, huge.body.error]).toEqual([413, 'ATTACHMENT_TOO_LARGE']);
      const waiting: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await createSession(token, { name: `q${i}.bin`, size: MAX_ATTACHMENT_BYTES });
        expect(created.status).toBe(201);
        waiting.push(created.body.uploadId);
      }
      const over = await createSession(token, { name: 'q3.bin', size: 100 * MB });
      expect([over.status, over.body.error]).toEqual([409, 'TOO_MANY_UPLOAD_BYTES']);
      // a file removed from the form: DELETE frees its share of the quota at once (its chunks go with it)
      const dropped = waiting[0];
      expect((await apiCall(product.api, 'DELETE', `/api/v1/uploads/${dropped}`, { token })).status).toBe(
        204,
      );
      expect((await apiCall(product.api, 'DELETE', `/api/v1/uploads/${dropped}`, { token })).status).toBe(
        404,
      );
      expect((await createSession(token, { name: 'q3.bin', size: 100 * MB })).status).toBe(201);
    });
  });
});
