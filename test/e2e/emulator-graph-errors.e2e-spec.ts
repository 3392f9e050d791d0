import { startEmulator, type RunningEmulator } from '@email-core/testing';

interface Case {
  name: string;
  /** per-case setup through the admin API; returns the request to make */
  request: (ctx: Ctx) => Promise<{
    method?: string;
    path: string;
    token?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
  }>;
  status: number;
  code: string;
  message?: RegExp;
  retryAfter?: boolean;
}

interface Ctx {
  emu: RunningEmulator;
  token: (address: string) => Promise<string>;
}

const alice = 'alice@errors.example';
const bob = 'bob@errors.example';
const carol = 'carol@errors.example';
const defaults = {
  throttling: { enabled: true, concurrency: 4, budget: 10000, windowSeconds: 600, retryAfterSeconds: 1 },
  latencyMs: 0,
  accessTokenLifetimeSeconds: 3599,
};

/** every Graph error the emulator answers, with the status, code, headers and body shape Graph documents */
const cases: Case[] = [
  {
    name: 'no token',
    request: () => Promise.resolve({ path: '/v1.0/me', token: null }),
    status: 401,
    code: 'InvalidAuthenticationToken',
    message: /Access token is empty/,
  },
  {
    name: 'a token that is not a JWT',
    request: () => Promise.resolve({ path: '/v1.0/me', token: 'not-a-token' }),
    status: 401,
    code: 'InvalidAuthenticationToken',
    message: /CompactToken parsing failed with error code: 80049217/,
  },
  {
    name: 'an expired token',
    request: async ({ emu, token }) => {
      await emu.admin('POST', '/_emulator/faults', { accessTokenLifetimeSeconds: 1 });
      const t = await token(alice);
      await emu.admin('POST', '/_emulator/faults', { accessTokenLifetimeSeconds: 3599 });
      await new Promise((r) => setTimeout(r, 2100));
      return { path: '/v1.0/me', token: t };
    },
    status: 401,
    code: 'InvalidAuthenticationToken',
    message: /expired or is not yet valid/,
  },
  {
    name: 'a message that does not exist',
    request: async ({ token }) => ({
      path: '/v1.0/me/messages/AAMkAGnothinghere=',
      token: await token(alice),
    }),
    status: 404,
    code: 'ErrorItemNotFound',
    message: /not found in the store/,
  },
  {
    name: 'a folder that does not exist',
    request: async ({ token }) => ({
      path: '/v1.0/me/mailFolders/nosuchfolder/messages',
      token: await token(alice),
    }),
    status: 404,
    code: 'ErrorItemNotFound',
  },
  {
    name: "another user's mailbox",
    request: async ({ token }) => ({ path: `/v1.0/users/${bob}/messages`, token: await token(alice) }),
    status: 403,
    code: 'ErrorAccessDenied',
  },
  {
    name: '$orderby not led by the $filter property',
    request: async ({ token }) => ({
      path: `/v1.0/me/messages?$filter=${encodeURIComponent('isRead eq false')}&$orderby=receivedDateTime%20desc`,
      token: await token(alice),
    }),
    status: 400,
    code: 'InefficientFilter',
    message: /too complex/,
  },
  {
    name: 'an expired delta token',
    request: async ({ emu, token }) => {
      const t = await token(alice);
      const first = (await (
        await fetch(`${emu.origin}/v1.0/me/mailFolders/inbox/messages/delta`, {
          headers: { Authorization: `Bearer ${t}`, Prefer: 'odata.maxpagesize=1000' },
        })
      ).json()) as Record<string, string>;
      await emu.admin('POST', '/_emulator/faults', { expireDeltaTokens: alice });
      return {
        path: new URL(first['@odata.deltaLink']).pathname + new URL(first['@odata.deltaLink']).search,
        token: t,
      };
    },
    status: 410,
    code: 'SyncStateNotFound',
    message: /sync state generation is not found/,
  },
  {
    name: 'over the per-mailbox request budget',
    request: async ({ emu, token }) => {
      const t = await token(carol);
      await emu.admin('POST', '/_emulator/faults', { throttling: { budget: 1 } });
      await fetch(`${emu.origin}/v1.0/me/mailFolders`, { headers: { Authorization: `Bearer ${t}` } });
      return { path: '/v1.0/me/mailFolders', token: t };
    },
    status: 429,
    code: 'TooManyRequests',
    retryAfter: true,
  },
  {
    name: 'an injected 503',
    request: async ({ emu, token }) => {
      const t = await token(alice);
      await emu.admin('POST', '/_emulator/faults', {
        failNext: { count: 1, status: 503, retryAfterSeconds: 2 },
      });
      return { path: '/v1.0/me', token: t };
    },
    status: 503,
    code: 'ServiceUnavailable',
    retryAfter: true,
  },
  {
    name: 'an injected 504',
    request: async ({ emu, token }) => {
      const t = await token(alice);
      await emu.admin('POST', '/_emulator/faults', {
        failNext: { count: 1, status: 504, retryAfterSeconds: 2 },
      });
      return { path: '/v1.0/me', token: t };
    },
    status: 504,
    code: 'UnknownError',
    retryAfter: true,
  },
  {
    name: 'an unknown resource',
    request: async ({ token }) => ({ path: '/v1.0/me/calendarz', token: await token(alice) }),
    status: 400,
    code: 'BadRequest',
  },
  {
    name: 'a $batch of more than 20 requests',
    request: async ({ token }) => ({
      method: 'POST',
      path: '/v1.0/$batch',
      token: await token(alice),
      body: {
        requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me' })),
      },
    }),
    status: 400,
    code: 'BadRequest',
  },
  {
    name: 'sendMail without recipients',
    request: async ({ token }) => ({
      method: 'POST',
      path: '/v1.0/me/sendMail',
      token: await token(alice),
      body: { message: { subject: 'x', body: { contentType: 'Text', content: 'y' } } },
    }),
    status: 400,
    code: 'ErrorInvalidRecipients',
  },
  {
    name: 'an inline attachment over 3 MB',
    request: async ({ token }) => ({
      method: 'POST',
      path: '/v1.0/me/sendMail',
      token: await token(alice),
      body: {
        message: {
          subject: 'big',
          toRecipients: [{ emailAddress: { address: bob } }],
          attachments: [
            {
              '@odata.type': '#microsoft.graph.fileAttachment',
              name: 'big.bin',
              contentBytes: Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64'),
            },
          ],
        },
      },
    }),
    status: 413,
    code: 'ErrorRequestEntityTooLarge',
  },
  {
    name: 'a PATCH of a read-only property',
    request: async ({ emu, token }) => {
      const m = await emu.admin<{ id: string }>('POST', `/_emulator/mailboxes/${alice}/messages`, {
        subject: 'patch me',
      });
      return {
        method: 'PATCH',
        path: `/v1.0/me/messages/${m.id}`,
        token: await token(alice),
        body: { receivedDateTime: '2020-01-01T00:00:00Z' },
      };
    },
    status: 400,
    code: 'ErrorInvalidProperty',
  },
];

describe('outlook emulator: Graph errors', () => {
  let emu: RunningEmulator;
  const ctx = {} as Ctx;

  beforeAll(async () => {
    emu = await startEmulator();
    for (const address of [alice, bob, carol])
      await emu.admin('POST', '/_emulator/mailboxes', { address, seed: { messages: 30 } });
    ctx.emu = emu;
    ctx.token = async (address) =>
      (await emu.admin<{ access_token: string }>('POST', '/_emulator/tokens', { address })).access_token;
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  afterEach(async () => {
    await emu.admin('POST', '/_emulator/faults', defaults);
  });

  it.each(cases)('$name → $status $code', async (c) => {
    const req = await c.request(ctx);
    const headers: Record<string, string> = { 'client-request-id': 'test-client-request-id', ...req.headers };
    if (req.token) headers.Authorization = `Bearer ${req.token}`;
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${emu.origin}${req.path}`, {
      method: req.method ?? 'GET',
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    const body = (await res.json()) as {
      error: { code: string; message: string; innerError: Record<string, string> };
    };
    expect(res.status).toBe(c.status);
    expect(body.error.code).toBe(c.code);
    expect(typeof body.error.message).toBe('string');
    if (c.message) expect(body.error.message).toMatch(c.message);
    expect(body.error.innerError).toMatchObject({ 'client-request-id': 'test-client-request-id' });
    expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(res.headers.get('request-id')).toBe(body.error.innerError['request-id']);
    if (c.retryAfter) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('over 4 concurrent requests per mailbox → 429 ApplicationThrottled with Retry-After, and stats never see more than 4', async () => {
    const t = await ctx.token(bob);
    // long enough that all ten overlap even on a loaded machine (at 300 ms, ten TLS handshakes under CI load
    // spread over 585 ms and a fifth request found a free slot)
    await emu.admin('POST', '/_emulator/faults', { latencyMs: 3000 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${emu.origin}/v1.0/me/mailFolders/inbox`, { headers: { Authorization: `Bearer ${t}` } }),
      ),
    );
    const throttled = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    expect(throttled).toHaveLength(6);
    const body = (await throttled[0].json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: 'ApplicationThrottled',
      message: 'Application is over its MailboxConcurrency limit.',
    });
    expect(throttled[0].headers.get('retry-after')).toBe('1');
    const stats = await emu.admin<{ mailboxes: Record<string, { maxConcurrency: number }> }>(
      'GET',
      '/_emulator/stats',
    );
    expect(stats.mailboxes[bob]?.maxConcurrency).toBe(4);
  });
});
