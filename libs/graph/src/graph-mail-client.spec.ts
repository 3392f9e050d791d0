import { GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import { KeyedSemaphore } from './keyed-semaphore';
import {
  GraphRequestError,
  GraphTransientError,
  OutlookAuthError,
  ReauthRequiredError,
  SyncStateNotFoundError,
} from './types';

const BASE = 'https://graph.test:8443';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
}

type Responder = (call: Call, n: number) => Response | Promise<Response>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

const graphError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `${code} (test)` } }, headers);

/** A stand-in for fetch: records every request and answers with `respond`. */
function fakeFetch(respond: Responder) {
  const calls: Call[] = [];
  const fn = async (input: string, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      url: input,
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      ),
    };
    calls.push(call);
    return respond(call, calls.length);
  };
  return { fn, calls };
}

function client(respond: Responder, extra: Partial<GraphMailClientOptions> = {}) {
  const fake = fakeFetch(respond);
  const sleeps: number[] = [];
  const tokenRequests: Array<{ forceRefresh?: boolean } | undefined> = [];
  const graph = new GraphMailClient({
    graphBaseUrl: BASE,
    mailboxKey: `acct-${Math.random()}`,
    getAccessToken: (opts) => {
      tokenRequests.push(opts);
      return Promise.resolve(opts?.forceRefresh ? 'token-2' : 'token-1');
    },
    fetch: fake.fn,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...extra,
  });
  return { graph, calls: fake.calls, sleeps, tokenRequests };
}

const me = {
  id: 'u1',
  displayName: 'Alice',
  mail: 'alice@contoso.example',
  userPrincipalName: 'alice@contoso.example',
};

describe('GraphMailClient', () => {
  it('sends the bearer token and Prefer: IdType="ImmutableId" to the configured host', async () => {
    const { graph, calls } = client(() => json(200, me));
    await expect(graph.me()).resolves.toEqual(me);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(`${BASE}/v1.0/me`);
    expect(calls[0].headers.authorization).toBe('Bearer token-1');
    expect(calls[0].headers.prefer).toBe('IdType="ImmutableId"');
  });

  describe('Retry-After', () => {
    it('retries 429 and 503 after exactly the Retry-After Graph sent (seconds, fractional, HTTP date)', async () => {
      const date = new Date(Date.now() + 30_000).toUTCString();
      const answers = [
        () => graphError(429, 'ApplicationThrottled', { 'Retry-After': '2.5' }),
        () => graphError(503, 'ServiceUnavailable', { 'Retry-After': '1' }),
        () => graphError(504, 'UnknownError', { 'Retry-After': date }),
        () => json(200, me),
      ];
      const { graph, calls, sleeps } = client((_, n) => answers[n - 1]());
      await expect(graph.me()).resolves.toMatchObject({ id: 'u1' });
      expect(calls).toHaveLength(4);
      expect(sleeps.slice(0, 2)).toEqual([2500, 1000]);
      expect(sleeps[2]).toBeGreaterThan(28_000);
      expect(sleeps[2]).toBeLessThanOrEqual(30_000);
    });

    it('really waits: two 429s with Retry-After 0.15 s take at least 300 ms', async () => {
      const fake = fakeFetch((_, n) =>
        n <= 2 ? graphError(429, 'TooManyRequests', { 'Retry-After': '0.15' }) : json(200, me),
      );
      const graph = new GraphMailClient({
        graphBaseUrl: BASE,
        mailboxKey: 'acct-real-wait',
        getAccessToken: () => Promise.resolve('t'),
        fetch: fake.fn,
      });
      const started = Date.now();
      await graph.me();
      expect(Date.now() - started).toBeGreaterThanOrEqual(295);
      expect(fake.calls).toHaveLength(3);
    });

    it('backs off exponentially when Graph sends no Retry-After', async () => {
      const { graph, sleeps } = client(
        (_, n) => (n <= 3 ? graphError(503, 'ServiceUnavailable') : json(200, me)),
        {
          retry: { backoffBaseMs: 100 },
        },
      );
      await graph.me();
      expect(sleeps).toEqual([100, 200, 400]);
    });

    it('gives up after the bounded attempts with GraphTransientError', async () => {
      const { graph, calls } = client(() => graphError(429, 'TooManyRequests', { 'Retry-After': '1' }), {
        retry: { maxAttempts: 3 },
      });
      const err = await graph.me().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GraphTransientError);
      expect(err).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterMs: 1000 });
      expect(calls).toHaveLength(3);
    });

    it('does not cut a long Retry-After short: hands it to the caller instead of waiting', async () => {
      const { graph, calls, sleeps } = client(
        () => graphError(429, 'TooManyRequests', { 'Retry-After': '600' }),
        {
          retry: { maxRetryDelayMs: 60_000 },
        },
      );
      const err = await graph.me().catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, retryAfterMs: 600_000 });
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('does not retry other errors', async () => {
      const { graph, calls } = client(() => graphError(403, 'ErrorAccessDenied'));
      await expect(graph.me()).rejects.toMatchObject({ status: 403, code: 'ErrorAccessDenied' });
      expect(calls).toHaveLength(1);
    });
  });

  it('after a 401 asks for a fresh token once and retries', async () => {
    const { graph, calls, tokenRequests } = client((call) =>
      call.headers.authorization === 'Bearer token-1'
        ? graphError(401, 'InvalidAuthenticationToken')
        : json(200, me),
    );
    await expect(graph.me()).resolves.toMatchObject({ id: 'u1' });
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(tokenRequests).toEqual([undefined, { forceRefresh: true }]);
  });

  it('a second 401 is an error, not a loop', async () => {
    const { graph, calls } = client(() => graphError(401, 'InvalidAuthenticationToken'));
    await expect(graph.me()).rejects.toBeInstanceOf(GraphRequestError);
    expect(calls).toHaveLength(2);
  });

  it('retries a GET whose connection failed', async () => {
    const { graph, calls } = client((_, n) => {
      if (n === 1) throw new TypeError('fetch failed');
      return json(200, me);
    });
    await expect(graph.me()).resolves.toMatchObject({ id: 'u1' });
    expect(calls).toHaveLength(2);
  });

  it('refuses to send a token to a host other than Graph (a forged nextLink)', async () => {
    const { graph, calls } = client(() => json(200, { value: [] }));
    await expect(graph.deltaPage({ link: 'https://evil.example/v1.0/me/messages/delta' })).rejects.toThrow(
      /outside https:\/\/graph\.test:8443/,
    );
    expect(calls).toHaveLength(0);
  });

  describe('token failures', () => {
    it("a refresh token Microsoft refused reaches the caller as the vault's ReauthRequiredError, through the SDK, with no request sent and no retry", async () => {
      const dead = new ReauthRequiredError('invalid_grant (AADSTS70008)', '70008');
      const { graph, calls, sleeps } = client(() => json(200, me), {
        getAccessToken: () => Promise.reject(dead),
      });
      const failure = await graph.listFolderTree().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBe(dead);
      await expect(graph.me()).rejects.toBe(dead);
      expect(calls).toHaveLength(0);
      expect(sleeps).toEqual([]);
    });

    it('other token trouble stays a transient failure named after it', async () => {
      const { graph, calls } = client(() => json(200, me), {
        getAccessToken: () => Promise.reject(new OutlookAuthError('temporarily_unavailable')),
      });
      const failure = await graph.me().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(GraphTransientError);
      expect(failure).toMatchObject({ status: 0, code: 'OutlookAuthError' });
      expect(calls).toHaveLength(0);
    });
  });

  describe('per-mailbox concurrency', () => {
    it('never has more than 4 requests of one mailbox in flight, across clients of that mailbox', async () => {
      const limiter = new KeyedSemaphore(4);
      let inFlight = 0;
      let peak = 0;
      const slow: Responder = async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return json(200, me);
      };
      const a = client(slow, { mailboxKey: 'shared', limiter });
      const b = client(slow, { mailboxKey: 'shared', limiter });
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).graph.me()));
      expect(peak).toBe(4);
      expect(a.calls.length + b.calls.length).toBe(20);
    });

    it('does not hold a permit while waiting out Retry-After', async () => {
      const limiter = new KeyedSemaphore(1);
      let releaseWait!: () => void;
      const waiting = new Promise<void>((r) => (releaseWait = r));
      const throttled = client((_, n) => (n === 1 ? graphError(429, 'TooManyRequests') : json(200, me)), {
        mailboxKey: 'one',
        limiter,
        sleep: () => waiting,
      });
      const first = throttled.graph.me();
      await new Promise((r) => setTimeout(r, 5));
      // the first request sleeps before its retry: the only permit is free for another request meanwhile
      const other = client(() => json(200, me), { mailboxKey: 'one', limiter });
      await expect(other.graph.me()).resolves.toMatchObject({ id: 'u1' });
      releaseWait();
      await expect(first).resolves.toMatchObject({ id: 'u1' });
    });

    it('keeps mailboxes independent', async () => {
      const limiter = new KeyedSemaphore(1);
      let release!: () => void;
      const gate = new Promise<Response>((r) => (release = () => r(json(200, me))));
      const blocked = client(() => gate, { mailboxKey: 'a', limiter });
      const free = client(() => json(200, me), { mailboxKey: 'b', limiter });
      const pending = blocked.graph.me();
      await new Promise((r) => setTimeout(r, 5));
      await expect(free.graph.me()).resolves.toMatchObject({ id: 'u1' });
      release();
      await pending;
    });
  });

  describe('delta', () => {
    it("asks for a folder delta with the page size, immutable ids and the mirror's $select", async () => {
      const { graph, calls } = client(() =>
        json(200, {
          value: [
            { id: 'm1', parentFolderId: 'F1', subject: 'Hi', changeKey: 'ck' },
            { id: 'm0', '@removed': { reason: 'deleted' } },
          ],
          '@odata.nextLink': `${BASE}/v1.0/me/mailFolders/F1/messages/delta?$skiptoken=s1`,
        }),
      );
      const page = await graph.deltaPage({ folderId: 'F1' }, 50);
      const url = new URL(calls[0].url);
      expect(url.pathname).toBe('/v1.0/me/mailFolders/F1/messages/delta');
      expect(url.searchParams.get('$select')).toContain('body');
      expect(calls[0].headers.prefer).toBe('odata.maxpagesize=50, IdType="ImmutableId"');
      expect(page.messages.map((m) => [m.id, m.folderId, m.subject])).toEqual([['m1', 'F1', 'Hi']]);
      expect(page.removedIds).toEqual(['m0']);
      expect(page.nextLink).toBe(`${BASE}/v1.0/me/mailFolders/F1/messages/delta?$skiptoken=s1`);
    });

    it('follows a stored link verbatim', async () => {
      const link = `${BASE}/v1.0/me/mailFolders('F1')/messages/delta?$deltatoken=abc`;
      const { graph, calls } = client(() => json(200, { value: [], '@odata.deltaLink': link }));
      const page = await graph.deltaPage({ link });
      expect(calls[0].url).toBe(link);
      expect(calls[0].headers.prefer).toBe('odata.maxpagesize=200, IdType="ImmutableId"');
      expect(page).toEqual({ messages: [], removedIds: [], deltaLink: link });
    });

    it('410 SyncStateNotFound → SyncStateNotFoundError; other 4xx → GraphRequestError', async () => {
      const gone = client(() => graphError(410, 'SyncStateNotFound'));
      await expect(gone.graph.deltaPage({ link: `${BASE}/v1.0/x?$deltatoken=1` })).rejects.toBeInstanceOf(
        SyncStateNotFoundError,
      );
      const bad = client(() => graphError(400, 'ErrorInvalidUrlQuery'));
      await expect(bad.graph.deltaPage({ folderId: 'F1' })).rejects.toMatchObject({
        status: 400,
        code: 'ErrorInvalidUrlQuery',
      });
    });
  });

  describe('getMessageFolderId', () => {
    it("asks only for the message's parentFolderId, by its id", async () => {
      const { graph, calls } = client(() => json(200, { id: 'AA+b/c=', parentFolderId: 'F9' }));
      expect(await graph.getMessageFolderId('AA+b/c=')).toBe('F9');
      const url = new URL(calls[0].url);
      expect(url.pathname).toBe('/v1.0/me/messages/AA%2Bb%2Fc%3D');
      expect(url.searchParams.get('$select')).toBe('parentFolderId');
      expect(calls[0].headers.prefer).toContain('IdType="ImmutableId"');
    });

    it('a message that is gone (404) answers null; other errors are thrown', async () => {
      const gone = client(() => graphError(404, 'ErrorItemNotFound'));
      expect(await gone.graph.getMessageFolderId('m1')).toBeNull();
      const denied = client(() => graphError(403, 'ErrorAccessDenied'));
      await expect(denied.graph.getMessageFolderId('m1')).rejects.toBeInstanceOf(GraphRequestError);
    });
  });

  it('walks the folder tree breadth-first with nextLinks and labels well-known folders', async () => {
    const folder = (id: string, name: string, children = 0) => ({
      id,
      displayName: name,
      parentFolderId: 'root',
      childFolderCount: children,
      totalItemCount: 3,
      unreadItemCount: 1,
    });
    const { graph } = client((call) => {
      const path = decodeURIComponent(new URL(call.url).pathname);
      const skip = new URL(call.url).searchParams.get('$skip');
      if (path === '/v1.0/me/mailFolders/inbox') return json(200, folder('IN', 'Inbox'));
      if (path === '/v1.0/me/mailFolders/sentitems') return json(200, folder('SE', 'Sent Items'));
      if (
        path.startsWith('/v1.0/me/mailFolders/') &&
        !path.endsWith('childFolders') &&
        path.split('/').length === 5
      )
        return graphError(404, 'ErrorItemNotFound');
      if (path === '/v1.0/me/mailFolders' && !skip)
        return json(200, {
          value: [folder('IN', 'Inbox', 1)],
          '@odata.nextLink': `${BASE}/v1.0/me/mailFolders?$top=100&$skip=1`,
        });
      if (path === '/v1.0/me/mailFolders') return json(200, { value: [folder('SE', 'Sent Items')] });
      if (path === '/v1.0/me/mailFolders/IN/childFolders')
        return json(200, { value: [folder('PR', 'Projects', 1)] });
      if (path === '/v1.0/me/mailFolders/PR/childFolders')
        return json(200, { value: [folder('26', '2026')] });
      return graphError(400, 'BadRequest');
    });
    const tree = await graph.listFolderTree();
    expect(tree.map((f) => [f.id, f.parentFolderId, f.wellKnownName])).toEqual([
      ['IN', null, 'inbox'],
      ['SE', null, 'sentitems'],
      ['PR', 'IN', null],
      ['26', 'PR', null],
    ]);
    expect(tree[0]).toMatchObject({ displayName: 'Inbox', totalItemCount: 3, unreadItemCount: 1 });
  });
});
