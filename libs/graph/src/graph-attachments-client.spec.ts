import { GraphAttachmentsClient } from './graph-attachments-client';
import type { GraphMailClientOptions } from './graph-mail-client';
import { KeyedSemaphore } from './keyed-semaphore';
import { GraphRequestError, GraphTransientError } from './types';

const BASE = 'https://graph.test:8443';
const MSG = 'AAMk+msg/1=';
const ATT = 'AAMk-att_0=.1';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

type Responder = (call: Call, n: number) => Response | Promise<Response>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const graphError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `${code} (test)` } }, headers);

function setup(respond: Responder, extra: Partial<GraphMailClientOptions> = {}) {
  const calls: Call[] = [];
  const sleeps: number[] = [];
  const tokenRequests: Array<{ forceRefresh?: boolean } | undefined> = [];
  const limiter = new KeyedSemaphore(4);
  const mailboxKey = 'acct-1';
  const graph = new GraphAttachmentsClient({
    graphBaseUrl: BASE,
    mailboxKey,
    limiter,
    getAccessToken: (opts) => {
      tokenRequests.push(opts);
      return Promise.resolve(opts?.forceRefresh ? 'token-2' : 'token-1');
    },
    fetch: (input, init) => {
      const call: Call = {
        url: input,
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        ),
        signal: init?.signal ?? undefined,
      };
      calls.push(call);
      return Promise.resolve(respond(call, calls.length));
    },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...extra,
  });
  return { graph, calls, sleeps, tokenRequests, permits: () => limiter.stats(mailboxKey) };
}

/** a body that yields `chunks` one by one, and records whether it was cancelled */
function chunkedBody(chunks: Buffer[]) {
  const state = { cancelled: false, pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[state.pulled++];
      if (next) controller.enqueue(new Uint8Array(next));
      else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

describe('GraphAttachmentsClient', () => {
  describe('list', () => {
    it('selects metadata only, follows nextLink and never passes contentBytes on', async () => {
      const { graph, calls } = setup((call) =>
        call.url.includes('skip=1')
          ? json(200, {
              value: [
                {
                  '@odata.type': '#microsoft.graph.itemAttachment',
                  id: 'b',
                  name: 'fwd.eml',
                  contentType: null,
                  size: 10,
                  isInline: false,
                },
              ],
            })
          : json(200, {
              value: [
                {
                  '@odata.type': '#microsoft.graph.fileAttachment',
                  id: 'a',
                  name: 'q3.pdf',
                  contentType: 'application/pdf',
                  size: 1234,
                  isInline: true,
                  contentId: '<logo@contoso>',
                  contentBytes: 'c2VjcmV0',
                },
              ],
              '@odata.nextLink': `${BASE}/v1.0/me/messages/x/attachments?$skip=1`,
            }),
      );
      await expect(graph.list(MSG)).resolves.toEqual([
        {
          id: 'a',
          name: 'q3.pdf',
          contentType: 'application/pdf',
          size: 1234,
          isInline: true,
          // without the header's angle brackets: what a cid: reference names
          contentId: 'logo@contoso',
          kind: 'file',
        },
        {
          id: 'b',
          name: 'fwd.eml',
          contentType: 'application/octet-stream',
          size: 10,
          isInline: false,
          kind: 'item',
        },
      ]);
      expect(calls).toHaveLength(2);
      const first = new URL(calls[0].url);
      expect(first.pathname).toBe(`/v1.0/me/messages/${encodeURIComponent(MSG)}/attachments`);
      expect(first.searchParams.get('$select')).toBe('id,name,contentType,size,isInline,contentId');
      expect(calls[0].headers.authorization).toBe('Bearer token-1');
      expect(calls[0].headers.prefer).toBe('IdType="ImmutableId"');
    });

    it('answers a message Graph no longer has as GraphRequestError 404', async () => {
      const { graph } = setup(() => graphError(404, 'ErrorItemNotFound'));
      await expect(graph.list(MSG)).rejects.toMatchObject({ status: 404, code: 'ErrorItemNotFound' });
      await expect(graph.list(MSG)).rejects.toBeInstanceOf(GraphRequestError);
    });
  });

  describe('openContent', () => {
    it('streams $value chunk by chunk and holds the mailbox permit until the stream has ended', async () => {
      const chunks = [Buffer.from('hello '), Buffer.from('attach'), Buffer.from('ment')];
      const { stream } = chunkedBody(chunks);
      const { graph, calls, permits } = setup(
        () =>
          new Response(stream, {
            status: 200,
            headers: { 'content-type': 'application/pdf', 'content-length': '16' },
          }),
      );
      const content = await graph.openContent(MSG, ATT);
      expect(calls[0].url).toBe(
        `${BASE}/v1.0/me/messages/${encodeURIComponent(MSG)}/attachments/${encodeURIComponent(ATT)}/$value`,
      );
      expect(calls[0].headers.authorization).toBe('Bearer token-1');
      expect(content.contentType).toBe('application/pdf');
      expect(content.contentLength).toBe(16);
      expect(permits().active).toBe(1);
      await expect(readAll(content.body)).resolves.toEqual(Buffer.concat(chunks));
      await new Promise((r) => setImmediate(r));
      expect(permits().active).toBe(0);
    });

    it('gives the permit back and cancels the download when the reader goes away', async () => {
      const { stream, state } = chunkedBody([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
      const { graph, permits } = setup(() => new Response(stream, { status: 200 }));
      const content = await graph.openContent(MSG, ATT);
      expect(content.contentLength).toBeNull();
      expect(permits().active).toBe(1);
      content.body.destroy();
      await new Promise((r) => setTimeout(r, 10));
      expect(permits().active).toBe(0);
      expect(state.cancelled).toBe(true);
    });

    it('waits out Retry-After on 429 and 503 before streaming, permits released in between', async () => {
      const { graph, calls, sleeps, permits } = setup((_call, n) =>
        n === 1
          ? graphError(429, 'ApplicationThrottled', { 'retry-after': '2' })
          : n === 2
            ? graphError(503, 'ServiceUnavailable', { 'retry-after': '1.5' })
            : new Response('bytes', { status: 200, headers: { 'content-type': 'text/plain' } }),
      );
      const content = await graph.openContent(MSG, ATT);
      expect(calls).toHaveLength(3);
      expect(sleeps).toEqual([2000, 1500]);
      expect((await readAll(content.body)).toString()).toBe('bytes');
      await new Promise((r) => setImmediate(r));
      expect(permits().active).toBe(0);
    });

    it('asks for a fresh token once after a 401', async () => {
      const { graph, calls, tokenRequests } = setup((_call, n) =>
        n === 1 ? graphError(401, 'InvalidAuthenticationToken') : new Response('ok', { status: 200 }),
      );
      const content = await graph.openContent(MSG, ATT);
      expect((await readAll(content.body)).toString()).toBe('ok');
      expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
      expect(tokenRequests[1]).toEqual({ forceRefresh: true });
    });

    it('raises GraphRequestError 404 for an unknown attachment, the permit released', async () => {
      const { graph, permits } = setup(() => graphError(404, 'ErrorItemNotFound'));
      await expect(graph.openContent(MSG, ATT)).rejects.toMatchObject({
        constructor: GraphRequestError,
        status: 404,
        code: 'ErrorItemNotFound',
      });
      expect(permits().active).toBe(0);
    });

    it("raises GraphTransientError with Graph's advice when throttling outlasts the retries", async () => {
      const { graph, calls } = setup(() => graphError(429, 'ApplicationThrottled', { 'retry-after': '3' }), {
        retry: { maxAttempts: 2 },
      });
      const err = (await graph.openContent(MSG, ATT).catch((e: unknown) => e)) as GraphTransientError;
      expect(err).toBeInstanceOf(GraphTransientError);
      expect(err.status).toBe(429);
      expect(err.retryAfterMs).toBe(3000);
      expect(calls).toHaveLength(2);
    });

    it('maps a network failure to GraphTransientError', async () => {
      const { graph } = setup(() => Promise.reject(new TypeError('fetch failed')), {
        retry: { maxAttempts: 1 },
      });
      await expect(graph.openContent(MSG, ATT)).rejects.toBeInstanceOf(GraphTransientError);
    });
  });
});
