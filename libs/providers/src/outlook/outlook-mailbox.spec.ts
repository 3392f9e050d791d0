import {
  AccountTokensNotFoundError,
  GraphRequestError,
  GraphTransientError,
  ReauthRequiredError as GraphReauthRequiredError,
  SubscriptionExpiryRejectedError,
  SyncStateNotFoundError,
} from '@email-core/graph';
import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
} from '../port';
import { toProviderError } from './outlook-errors';
import { OutlookProvider } from './outlook.provider';

const BASE = 'https://graph.test:8443';
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** An adapter whose Graph answers come from `respond` (no retries, no waiting). */
function adapter(respond: (url: string) => Response) {
  const urls: string[] = [];
  const provider = OutlookProvider.create({
    graphBaseUrl: BASE,
    accessToken: () => Promise.resolve('token'),
    graph: {
      fetch: (url) => {
        urls.push(url);
        return Promise.resolve(respond(url));
      },
      retry: { maxAttempts: 1 },
      sleep: () => Promise.resolve(),
    },
  });
  return { mailbox: provider.mailbox('acct-1'), urls };
}

describe('Outlook adapter', () => {
  it('reads a folder from scratch, then from the cursor Graph gave (nextLink, then deltaLink)', async () => {
    const next = `${BASE}/v1.0/me/mailFolders/f1/messages/delta?$skiptoken=2`;
    const delta = `${BASE}/v1.0/me/mailFolders/f1/messages/delta?$deltatoken=3`;
    const { mailbox, urls } = adapter((url) =>
      url.includes('skiptoken')
        ? json(200, { value: [{ id: 'm2', '@removed': { reason: 'deleted' } }], '@odata.deltaLink': delta })
        : json(200, { value: [], '@odata.nextLink': next }),
    );
    const first = await mailbox.changes({ folderId: 'f1' });
    expect(first).toEqual({ messages: [], removedIds: [], nextCursor: next });
    const second = await mailbox.changes({ cursor: next });
    expect(second).toEqual({ messages: [], removedIds: ['m2'], cursor: delta });
    expect(urls[0]).toContain('/me/mailFolders/f1/messages/delta');
    expect(urls[1]).toBe(next);
  });

  it("a lost delta state is the port's CursorLostError; a refusal is ProviderRefusedError", async () => {
    const gone = adapter(() => json(410, { error: { code: 'SyncStateNotFound', message: 'gone' } }));
    await expect(gone.mailbox.changes({ cursor: `${BASE}/v1.0/x` })).rejects.toBeInstanceOf(CursorLostError);
    const missing = adapter(() => json(404, { error: { code: 'ErrorItemNotFound', message: 'no' } }));
    await expect(missing.mailbox.setRead('m1', true)).rejects.toMatchObject({
      constructor: ProviderRefusedError,
      status: 404,
      code: 'ErrorItemNotFound',
    });
    await expect(missing.mailbox.folderOf('m1')).resolves.toBeNull();
  });

  it("translates every Graph and vault failure into the port's errors", () => {
    expect(toProviderError(new SyncStateNotFoundError('x'))).toBeInstanceOf(CursorLostError);
    expect(toProviderError(new GraphReauthRequiredError('revoked', '70008'))).toMatchObject({
      constructor: ReauthRequiredError,
      reason: 'revoked',
      providerCode: '70008',
    });
    expect(toProviderError(new AccountTokensNotFoundError('a1'))).toMatchObject({
      constructor: CredentialsNotFoundError,
      accountId: 'a1',
    });
    expect(toProviderError(new GraphRequestError(403, 'ErrorAccessDenied', 'no'))).toMatchObject({
      constructor: ProviderRefusedError,
      status: 403,
      code: 'ErrorAccessDenied',
    });
    expect(toProviderError(new GraphTransientError(429, 'TooManyRequests', 'slow', 5000))).toMatchObject({
      constructor: ProviderUnavailableError,
      status: 429,
      retryAfterMs: 5000,
    });
    expect(toProviderError(new GraphTransientError(0, 'TokenRefreshTimeoutError', 't'))).toMatchObject({
      status: 0,
      code: 'CredentialTimeout',
    });
    expect(toProviderError(new SubscriptionExpiryRejectedError(4230, 'cap'))).toMatchObject({
      constructor: WatchLifetimeRejectedError,
      maxMinutes: 4230,
    });
    const other = new Error('other');
    expect(toProviderError(other)).toBe(other);
  });
});

describe('Outlook adapter: large attachments (docs/attachments.md)', () => {
  const MB = 1024 * 1024;
  const UPLOAD_URL = `${BASE}/api/v2.0/Users('u')/Messages('d1')/AttachmentSessions('s1')?authtoken=abc`;
  interface Call {
    method: string;
    url: string;
    authorization: string | null;
    range: string | null;
  }

  /** Graph's answers by method and path; every request recorded */
  function graph(answer: (c: Call) => Response) {
    const calls: Call[] = [];
    const provider = OutlookProvider.create({
      graphBaseUrl: BASE,
      accessToken: () => Promise.resolve('token'),
      graph: {
        fetch: (input, init) => {
          const headers = new Headers(init?.headers);
          const call = {
            method: (init?.method ?? 'GET').toUpperCase(),
            url: String(input),
            authorization: headers.get('authorization'),
            range: headers.get('content-range'),
          };
          calls.push(call);
          return Promise.resolve(answer(call));
        },
        retry: { maxAttempts: 1 },
        sleep: () => Promise.resolve(),
      },
    });
    return { mailbox: provider.mailbox('acct-1'), calls };
  }
  const mail = (attachments: Array<{ name: string; contentType: string; content: unknown }>) => ({
    subject: 'big',
    body: { contentType: 'text' as const, content: 'attached' },
    toRecipients: [{ address: 'bob@fabrikam.example' }],
    ccRecipients: [],
    bccRecipients: [],
    attachments: attachments as never,
  });
  const source = (size: number) => ({
    size,
    read: (s: number, e: number) => Promise.resolve(Buffer.alloc(e - s, 7)),
  });
  const path = (c: Call) => `${c.method} ${new URL(c.url).pathname.replace('/v1.0', '')}`;

  it('attachments that fit inline (3 MB in all) go in one sendMail', async () => {
    const { mailbox, calls } = graph(() => new Response(null, { status: 202 }));
    await mailbox.sendMail(mail([{ name: 'a.txt', contentType: 'text/plain', content: Buffer.alloc(MB) }]));
    expect(calls.map(path)).toEqual(['POST /me/sendMail']);
  });

  it('a 7 MB attachment: a draft, an upload session (320 KiB-multiple PUTs without the bearer token), then send', async () => {
    let received = 0;
    const { mailbox, calls } = graph((c) => {
      if (c.method === 'POST' && c.url.endsWith('/me/messages')) return json(201, { id: 'd1' });
      if (c.url.endsWith('/createUploadSession')) {
        return json(201, {
          uploadUrl: UPLOAD_URL,
          expirationDateTime: '2030-01-01T00:00:00Z',
          nextExpectedRanges: ['0-'],
        });
      }
      if (c.method === 'PUT') {
        const [, first, last, total] = /bytes (\d+)-(\d+)\/(\d+)/.exec(c.range ?? '')!.map(Number);
        expect(first).toBe(received);
        received = last + 1;
        return received === total
          ? new Response(null, { status: 201 })
          : json(200, { nextExpectedRanges: [String(received)] });
      }
      return new Response(null, { status: 202 });
    });
    await mailbox.sendMail(
      mail([{ name: 'big.bin', contentType: 'application/zip', content: source(7 * MB) }]),
    );
    expect(calls.map(path)).toEqual([
      'POST /me/messages',
      'POST /me/messages/d1/attachments/createUploadSession',
      "PUT /api/v2.0/Users('u')/Messages('d1')/AttachmentSessions('s1')",
      "PUT /api/v2.0/Users('u')/Messages('d1')/AttachmentSessions('s1')",
      "PUT /api/v2.0/Users('u')/Messages('d1')/AttachmentSessions('s1')",
      'POST /me/messages/d1/send',
    ]);
    const puts = calls.filter((c) => c.method === 'PUT');
    expect(puts.map((c) => c.authorization)).toEqual([null, null, null]);
    expect(puts.map((c) => c.range)).toEqual([
      `bytes 0-3276799/${7 * MB}`,
      `bytes 3276800-6553599/${7 * MB}`,
      `bytes 6553600-${7 * MB - 1}/${7 * MB}`,
    ]);
    expect(calls.filter((c) => c.method !== 'PUT').every((c) => c.authorization === 'Bearer token')).toBe(
      true,
    );
  });

  it.each([
    [
      'Graph unavailable (500): nothing was sent, 503 NOT_SENT (the command is retried)',
      500,
      ProviderUnavailableError,
      503,
    ],
    ['Graph refusing (403): its refusal as is', 403, ProviderRefusedError, 403],
  ])('an upload that fails before the send deletes the draft; %s', async (_what, status, type, expected) => {
    const { mailbox, calls } = graph((c) => {
      if (c.method === 'POST' && c.url.endsWith('/me/messages')) return json(201, { id: 'd1' });
      if (c.url.endsWith('/createUploadSession'))
        return json(status, { error: { code: 'Boom', message: 'no' } });
      return new Response(null, { status: 204 });
    });
    const err = await mailbox
      .sendMail(mail([{ name: 'big.bin', contentType: 'application/zip', content: source(4 * MB) }]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as { status: number }).status).toBe(expected);
    expect(calls.map(path)).toContain('DELETE /me/messages/d1');
    expect(calls.map(path)).not.toContain('POST /me/messages/d1/send');
  });
});
