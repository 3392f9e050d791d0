import { createHash, randomBytes } from 'node:crypto';
import { GraphMailClient, GraphUploadSessions, type LargeAttachment } from '@email-core/graph';
import { startEmulator, type RunningEmulator } from '@email-core/testing';

interface Session {
  uploadUrl: string;
  expirationDateTime: string;
  ExpirationDateTime: string;
  nextExpectedRanges: string[];
  error?: { code: string };
}
interface Listed {
  value: Array<{ name: string; contentType: string; size: number; sha256: string }>;
}
interface Export {
  messages: Array<{ id: string; immutableId: string; subject: string; parentFolderId: string }>;
  folders: Array<{ id: string; wellKnownName: string | null }>;
}

const MB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const source = (name: string, bytes: Buffer): LargeAttachment => ({
  name,
  contentType: 'application/octet-stream',
  size: bytes.length,
  read: (start, end) => Promise.resolve(bytes.subarray(start, end)),
});

/**
 * Graph's upload sessions on the real emulator process (issue 23): the raw protocol on the upload URL (no
 * Authorization header; order and range checks; GET to resume; DELETE), and libs/graph's GraphUploadSessions
 * (the worker's client, on the product's middleware) attaching a 40 MB file to a draft that is sent: the
 * recipient's copy has the same SHA-256, also when PUTs fail on the way and the upload resumes from
 * nextExpectedRanges.
 */
describe('outlook emulator: upload sessions for large attachments', () => {
  let emu: RunningEmulator;
  const alice = 'alice.upload@contoso.example';
  const bob = 'bob.upload@fabrikam.example';
  let token = '';

  const graph = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${emu.origin}/v1.0/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        prefer: 'IdType="ImmutableId"',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const draft = async (subject: string) =>
    (
      await graph<{ id: string }>('POST', 'me/messages', {
        subject,
        body: { contentType: 'text', content: 'large file attached' },
        toRecipients: [{ emailAddress: { address: bob } }],
      })
    ).body.id;
  const openSession = async (messageId: string, size: number) =>
    graph<Session>('POST', `me/messages/${messageId}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 'big.bin', size },
    });
  const put = (url: string, bytes: Buffer, start: number, total: number) =>
    fetch(url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`,
      },
      body: bytes,
    });
  /** the attachments of bob's received copy of `subject`, with their checksums */
  const receivedBy = async (subject: string) => {
    const exp = await emu.admin<Export>('GET', `/_emulator/mailboxes/${bob}/export?bodies=false`);
    const inbox = exp.folders.find((f) => f.wellKnownName === 'inbox')!.id;
    const msg = exp.messages.find((m) => m.subject === subject && m.parentFolderId === inbox);
    if (!msg) throw new Error(`${subject} did not arrive`);
    return (await emu.admin<Listed>('GET', `/_emulator/mailboxes/${bob}/messages/${msg.id}/attachments`))
      .value;
  };
  const client = (fetchImpl?: typeof fetch) => {
    const options = {
      graphBaseUrl: emu.origin,
      mailboxKey: alice,
      getAccessToken: () => Promise.resolve(token),
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    };
    return new GraphUploadSessions(new GraphMailClient(options).sdk, {
      ...options,
      sleep: () => Promise.resolve(),
    });
  };

  beforeAll(async () => {
    emu = await startEmulator();
    await emu.admin('POST', '/_emulator/mailboxes', { address: alice, displayName: 'Alice Upload' });
    await emu.admin('POST', '/_emulator/mailboxes', { address: bob, displayName: 'Bob Upload' });
    token = (await emu.admin<{ access_token: string }>('POST', '/_emulator/tokens', { address: alice }))
      .access_token;
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('the upload URL takes PUTs without Authorization, in order only (416), tells where it stands, and can be cancelled', async () => {
    const file = randomBytes(5 * MB);
    const created = await openSession(await draft('Protocol'), file.length);
    expect(created.status).toBe(201);
    expect(created.body.nextExpectedRanges).toEqual(['0-']);
    const url = created.body.uploadUrl;
    expect(new URL(url).origin).toBe(emu.origin);
    expect(Date.parse(created.body.expirationDateTime)).toBeGreaterThan(Date.now());

    const first = await put(url, file.subarray(0, 2 * MB), 0, file.length);
    expect(first.status).toBe(200);
    expect(((await first.json()) as Session).nextExpectedRanges).toEqual([String(2 * MB)]);
    const ahead = await put(url, file.subarray(3 * MB), 3 * MB, file.length);
    expect(ahead.status).toBe(416);
    expect(((await ahead.json()) as Session).error?.code).toBe('InvalidRange');
    const state = await fetch(url);
    expect(state.status).toBe(200);
    expect(((await state.json()) as Session).nextExpectedRanges).toEqual([`${2 * MB}-${file.length - 1}`]);

    const forged = new URL(url);
    forged.searchParams.set('authtoken', 'forged');
    expect((await fetch(forged, { method: 'GET' })).status).toBe(401);

    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    expect((await put(url, file.subarray(2 * MB), 2 * MB, file.length)).status).toBe(404);
  });

  it('a file under 3 MB is refused a session, as Graph does', async () => {
    const small = await openSession(await draft('Small'), 3 * MB - 1);
    expect(small.status).toBe(400);
    expect(small.body.error?.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
  });

  it('GraphUploadSessions attaches a 40 MB file to a draft in 320 KiB-multiple chunks; sent, it arrives intact', async () => {
    const file = randomBytes(40 * MB);
    const id = await draft('Forty megabytes');
    const puts: number[] = [];
    const counting: typeof fetch = (input, init) => {
      if (init?.method === 'PUT')
        puts.push(Number(new Headers(init.headers).get('content-range')?.split(/[ -]/)[1]));
      return fetch(input, init);
    };
    const started = Date.now();
    await client(counting).attach(id, source('forty.bin', file));
    const ms = Date.now() - started;
    expect(puts.length).toBe(Math.ceil(file.length / (10 * 320 * 1024)));
    expect(puts.every((start) => start % (320 * 1024) === 0)).toBe(true);
    expect((await graph('POST', `me/messages/${id}/send`)).status).toBe(202);
    const received = await receivedBy('Forty megabytes');
    expect(received.map((a) => [a.name, a.size])).toEqual([['forty.bin', file.length]]);
    expect(received[0].sha256).toBe(sha256(file));
    process.stdout.write(`emulator upload session: 40 MB in ${puts.length} PUTs, ${ms} ms\n`);
  });

  it('resumes from nextExpectedRanges: a PUT whose answer is lost, and one that never arrives', async () => {
    const file = randomBytes(12 * MB + 17);
    const id = await draft('Resumed');
    let n = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (init?.method !== 'PUT') return fetch(input, init);
      n += 1;
      // the 2nd PUT reaches the emulator but its answer is lost; the 3rd never leaves
      if (n === 2) {
        await fetch(input, init);
        throw new TypeError('fetch failed: socket hang up');
      }
      if (n === 3) throw new TypeError('fetch failed: connect ECONNRESET');
      return fetch(input, init);
    };
    await client(flaky).attach(id, source('resumed.bin', file));
    expect((await graph('POST', `me/messages/${id}/send`)).status).toBe(202);
    const received = await receivedBy('Resumed');
    expect(received[0].sha256).toBe(sha256(file));
    expect(received[0].size).toBe(file.length);
  });
});
