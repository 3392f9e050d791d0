import { GraphError } from '@microsoft/microsoft-graph-client';
import { mapDeltaResponse, mapGraphMessage, toGraphFailure, type RawMessage } from './graph-mapping';
import { AccessTokenFailure } from './graph-middleware';
import {
  AccountTokensNotFoundError,
  GraphRequestError,
  GraphTransientError,
  OutlookAuthError,
  ReauthRequiredError,
  SyncStateNotFoundError,
  TokenRefreshTimeoutError,
} from './types';

const full: RawMessage = {
  id: 'AAMkImmutable1=',
  parentFolderId: 'AAMkInbox=',
  changeKey: 'CQAAABYAAAD1',
  subject: 'Q3 planning',
  from: { emailAddress: { name: 'Hiro Tanaka', address: 'hiro@fabrikam.com' } },
  toRecipients: [
    { emailAddress: { name: 'Alice', address: 'alice@contoso.example' } },
    { emailAddress: { address: 'bob@contoso.example' } },
  ],
  ccRecipients: [{ emailAddress: { name: 'Carol', address: 'carol@contoso.example' } }],
  bodyPreview: 'Can we move',
  body: { contentType: 'html', content: '<p>Can we move</p>' },
  receivedDateTime: '2026-07-27T14:57:01Z',
  sentDateTime: '2026-07-27T14:56:59Z',
  isRead: true,
  flag: { flagStatus: 'flagged' },
  importance: 'high',
  hasAttachments: true,
  conversationId: 'conv-1',
  internetMessageId: '<abc@fabrikam.com>',
};

function graphError(status: number, code: string, headers?: Record<string, string>): GraphError {
  const err = new GraphError(status, `${code} happened`);
  err.code = code;
  if (headers) err.headers = new Headers(headers);
  return err;
}

describe('message mapping', () => {
  it('maps a full Graph message, flattening recipients to {name, address}', () => {
    expect(mapGraphMessage(full)).toEqual({
      id: 'AAMkImmutable1=',
      folderId: 'AAMkInbox=',
      changeKey: 'CQAAABYAAAD1',
      subject: 'Q3 planning',
      from: { name: 'Hiro Tanaka', address: 'hiro@fabrikam.com' },
      toRecipients: [
        { name: 'Alice', address: 'alice@contoso.example' },
        { name: '', address: 'bob@contoso.example' },
      ],
      ccRecipients: [{ name: 'Carol', address: 'carol@contoso.example' }],
      bodyPreview: 'Can we move',
      body: { contentType: 'html', content: '<p>Can we move</p>' },
      receivedAt: '2026-07-27T14:57:01Z',
      sentAt: '2026-07-27T14:56:59Z',
      isRead: true,
      flagStatus: 'flagged',
      importance: 'high',
      hasAttachments: true,
      conversationId: 'conv-1',
      internetMessageId: '<abc@fabrikam.com>',
      isDraft: false,
    });
  });

  it('fills defaults for a sparse message (a draft without sender, dates or flag)', () => {
    const m = mapGraphMessage(
      { id: 'd1', createdDateTime: '2026-01-02T03:04:05Z', body: { contentType: 'Text', content: 'hi' } },
      'AAMkDrafts=',
    );
    expect(m).toMatchObject({
      folderId: 'AAMkDrafts=',
      changeKey: '',
      subject: '',
      from: null,
      toRecipients: [],
      ccRecipients: [],
      body: { contentType: 'text', content: 'hi' },
      receivedAt: '2026-01-02T03:04:05Z',
      sentAt: null,
      isRead: false,
      flagStatus: 'notFlagged',
      importance: 'normal',
      hasAttachments: false,
      conversationId: null,
      internetMessageId: null,
    });
  });

  it('normalizes enum casing and drops empty recipients', () => {
    const m = mapGraphMessage({
      ...full,
      importance: 'Low',
      flag: { flagStatus: 'Complete' },
      from: { emailAddress: {} },
      toRecipients: [{ emailAddress: null }, { emailAddress: { address: 'x@y.z' } }],
      body: { contentType: 'HTML', content: '<b>x</b>' },
    });
    expect(m.importance).toBe('low');
    expect(m.flagStatus).toBe('complete');
    expect(m.from).toBeNull();
    expect(m.toRecipients).toEqual([{ name: '', address: 'x@y.z' }]);
    expect(m.body.contentType).toBe('html');
  });

  it('splits a delta page into messages and removed ids and keeps its nextLink', () => {
    const page = mapDeltaResponse(
      {
        value: [full, { id: 'gone-1', '@removed': { reason: 'deleted' } }, { ...full, id: 'AAMk2=' }],
        '@odata.nextLink': 'https://graph.example/v1.0/me/mailFolders/x/messages/delta?$skiptoken=abc',
      },
      'AAMkInbox=',
    );
    expect(page.messages.map((m) => m.id)).toEqual(['AAMkImmutable1=', 'AAMk2=']);
    expect(page.removedIds).toEqual(['gone-1']);
    expect(page.nextLink).toContain('$skiptoken=abc');
    expect(page.deltaLink).toBeUndefined();
  });

  it('keeps the deltaLink of the last page, also when it is empty', () => {
    const page = mapDeltaResponse({ value: [], '@odata.deltaLink': 'https://g/v1.0/x?$deltatoken=1' });
    expect(page).toEqual({ messages: [], removedIds: [], deltaLink: 'https://g/v1.0/x?$deltatoken=1' });
  });

  it('refuses a page with neither link', () => {
    expect(() => mapDeltaResponse({ value: [] })).toThrow(GraphRequestError);
  });
});

describe('error mapping', () => {
  it('410 and the sync-state codes (any casing) mean "start the folder again"', () => {
    expect(toGraphFailure(graphError(410, 'SyncStateNotFound'))).toBeInstanceOf(SyncStateNotFoundError);
    expect(toGraphFailure(graphError(400, 'syncStateNotFound'))).toBeInstanceOf(SyncStateNotFoundError);
    expect(toGraphFailure(graphError(400, 'resyncRequired'))).toBeInstanceOf(SyncStateNotFoundError);
    expect(toGraphFailure(graphError(400, 'InvalidSyncStateData'))).toBeInstanceOf(SyncStateNotFoundError);
  });

  it('other 4xx become GraphRequestError with status and code', () => {
    const err = toGraphFailure(graphError(404, 'ErrorItemNotFound'));
    expect(err).toBeInstanceOf(GraphRequestError);
    expect(err).toMatchObject({ status: 404, code: 'ErrorItemNotFound' });
    expect(toGraphFailure(graphError(401, 'InvalidAuthenticationToken'))).toMatchObject({ status: 401 });
  });

  it("429 and 5xx after the retries become GraphTransientError with Graph's Retry-After advice", () => {
    const err = toGraphFailure(graphError(429, 'TooManyRequests', { 'Retry-After': '120' }));
    expect(err).toBeInstanceOf(GraphTransientError);
    expect(err).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterMs: 120000 });
    expect(toGraphFailure(graphError(503, 'ServiceUnavailable'))).toMatchObject({
      status: 503,
      retryAfterMs: undefined,
    });
    expect(toGraphFailure(graphError(500, 'InternalServerError'))).toBeInstanceOf(GraphTransientError);
  });

  it("a token failure is the vault's own error when it concerns the account, else transient", () => {
    const dead = new ReauthRequiredError('invalid_grant (AADSTS70008)', '70008');
    expect(toGraphFailure(new AccessTokenFailure(dead))).toBe(dead);
    const none = new AccountTokensNotFoundError('a1');
    expect(toGraphFailure(new AccessTokenFailure(none))).toBe(none);
    const timeout = toGraphFailure(new AccessTokenFailure(new TokenRefreshTimeoutError('a1')));
    expect(timeout).toBeInstanceOf(GraphTransientError);
    expect(timeout).toMatchObject({ status: 0, code: 'TokenRefreshTimeoutError' });
    expect(
      toGraphFailure(new AccessTokenFailure(new OutlookAuthError('temporarily_unavailable'))),
    ).toMatchObject({ status: 0, code: 'OutlookAuthError' });
  });

  it('a network failure (no status) is transient; other errors pass through', () => {
    expect(toGraphFailure(new GraphError(-1, 'fetch failed'))).toMatchObject({
      status: 0,
      code: 'NetworkError',
    });
    const plain = new Error('x');
    expect(toGraphFailure(plain)).toBe(plain);
    const known = new GraphRequestError(400, 'BadRequest', 'bad');
    expect(toGraphFailure(known)).toBe(known);
  });
});
