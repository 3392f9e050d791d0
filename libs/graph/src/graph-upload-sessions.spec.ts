import { GraphMailClient } from './graph-mail-client';
import { GraphUploadSessions, UPLOAD_SESSION_CHUNK_BYTES } from './graph-upload-sessions';
import { GraphRequestError } from './types';

const BASE = 'https://graph.test';
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const file = (size: number) => ({
  name: 'f.bin',
  contentType: 'application/octet-stream',
  size,
  read: (s: number, e: number) => Promise.resolve(Buffer.alloc(e - s, 1)),
});

/** GraphUploadSessions over a scripted Graph: `answer` gets each request (method, URL, Content-Range). */
function uploads(uploadUrl: string, answer: (method: string, url: string, range: string | null) => Response) {
  const seen: string[] = [];
  const fetch = (url: string, init?: RequestInit) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const range = new Headers(init?.headers).get('content-range');
    seen.push(`${method} ${range ?? url}`);
    if (url.endsWith('/createUploadSession'))
      return Promise.resolve(json(201, { uploadUrl, nextExpectedRanges: ['0-'] }));
    return Promise.resolve(answer(method, url, range));
  };
  const options = {
    graphBaseUrl: BASE,
    mailboxKey: 'acct',
    getAccessToken: () => Promise.resolve('token'),
    fetch,
    retry: { maxAttempts: 1 },
  };
  return {
    client: new GraphUploadSessions(new GraphMailClient(options).sdk, {
      ...options,
      sleep: () => Promise.resolve(),
    }),
    seen,
  };
}

describe('GraphUploadSessions', () => {
  it.each([
    ['http', 'http://graph.test/api/v2.0/AttachmentSessions(1)'],
    ['another host', 'https://evil.example/api/v2.0/AttachmentSessions(1)'],
  ])('refuses an uploadUrl on %s before sending it a byte', async (_what, url) => {
    const { client, seen } = uploads(url, () => json(200, {}));
    await expect(client.attach('d1', file(4 * 1024 * 1024))).rejects.toBeInstanceOf(GraphRequestError);
    expect(seen.filter((s) => s.startsWith('PUT'))).toEqual([]);
  });

  it("takes Outlook's own upload host", async () => {
    const { client } = uploads(
      'https://outlook.office.com/api/v2.0/AttachmentSessions(1)?authtoken=x',
      () => new Response(null, { status: 201 }),
    );
    await expect(client.attach('d1', file(UPLOAD_SESSION_CHUNK_BYTES))).resolves.toBeUndefined();
  });

  it('after a 416 asks where the session stands and goes on from there', async () => {
    const size = 3 * UPLOAD_SESSION_CHUNK_BYTES;
    let puts = 0;
    const { client, seen } = uploads(
      `${BASE}/api/v2.0/AttachmentSessions(1)?authtoken=x`,
      (method, _url, range) => {
        if (method === 'GET')
          return json(200, { nextExpectedRanges: [`${2 * UPLOAD_SESSION_CHUNK_BYTES}-${size - 1}`] });
        puts += 1;
        if (puts === 2) return json(416, { error: { code: 'InvalidRange' } });
        const last = Number(/-(\d+)\//.exec(range ?? '')![1]);
        return last === size - 1
          ? new Response(null, { status: 201 })
          : json(200, { nextExpectedRanges: [String(last + 1)] });
      },
    );
    await client.attach('d1', file(size));
    const c = UPLOAD_SESSION_CHUNK_BYTES;
    expect(seen.slice(1)).toEqual([
      `PUT bytes 0-${c - 1}/${size}`,
      `PUT bytes ${c}-${2 * c - 1}/${size}`,
      `GET ${BASE}/api/v2.0/AttachmentSessions(1)?authtoken=x`,
      `PUT bytes ${2 * c}-${size - 1}/${size}`,
    ]);
  });

  it('gives up after five failed PUTs in a row with the last error', async () => {
    const { client, seen } = uploads(`${BASE}/api/v2.0/AttachmentSessions(1)?authtoken=x`, (method) =>
      method === 'GET'
        ? json(200, { nextExpectedRanges: ['0-'] })
        : json(503, { error: { code: 'ServiceUnavailable' } }),
    );
    await expect(client.attach('d1', file(UPLOAD_SESSION_CHUNK_BYTES))).rejects.toMatchObject({
      name: 'GraphTransientError',
      status: 503,
    });
    expect(seen.filter((s) => s.startsWith('PUT'))).toHaveLength(5);
  });
});
