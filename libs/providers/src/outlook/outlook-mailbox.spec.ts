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
