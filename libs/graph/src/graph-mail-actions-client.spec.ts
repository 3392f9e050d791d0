import { GraphMailActionsClient } from './graph-mail-actions-client';
import { KeyedSemaphore } from './keyed-semaphore';
import { GraphRequestError, GraphTransientError } from './types';

const BASE = 'https://graph.test:8443';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const empty = (status: number) => new Response(null, { status });
const graphError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message } }, headers);

function client(
  respond: (call: Call, n: number) => Response | Promise<Response>,
  limiter = new KeyedSemaphore(4),
) {
  const calls: Call[] = [];
  const sleeps: number[] = [];
  const graph = GraphMailActionsClient.create({
    graphBaseUrl: BASE,
    mailboxKey: 'acct-1',
    limiter,
    getAccessToken: () => Promise.resolve('token-1'),
    fetch: async (input, init) => {
      const call: Call = {
        url: input,
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        ),
        body: typeof init?.body === 'string' && init.body.length > 0 ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      return respond(call, calls.length);
    },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return { graph, calls, sleeps };
}

const ID = 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A/immutable=';
const ENC = encodeURIComponent(ID);

describe('GraphMailActionsClient', () => {
  it('PATCHes isRead and flag.flagStatus with the token and Prefer: IdType="ImmutableId"', async () => {
    const { graph, calls } = client(() => json(200, { id: ID }));
    await graph.setRead(ID, true);
    await graph.setFlag(ID, 'complete');
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['PATCH', `${BASE}/v1.0/me/messages/${ENC}`, { isRead: true }],
      ['PATCH', `${BASE}/v1.0/me/messages/${ENC}`, { flag: { flagStatus: 'complete' } }],
    ]);
    for (const c of calls) {
      expect(c.headers.authorization).toBe('Bearer token-1');
      expect(c.headers.prefer).toBe('IdType="ImmutableId"');
    }
  });

  it('moves and answers the real destination id; deletes', async () => {
    const { graph, calls } = client((c) =>
      c.method === 'POST' ? json(201, { id: ID, parentFolderId: 'folder-archive' }) : empty(204),
    );
    await expect(graph.move(ID, 'archive')).resolves.toEqual({ id: ID, parentFolderId: 'folder-archive' });
    await graph.delete(ID);
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', `${BASE}/v1.0/me/messages/${ENC}/move`, { destinationId: 'archive' }],
      ['DELETE', `${BASE}/v1.0/me/messages/${ENC}`, undefined],
    ]);
  });

  it('sends mail with inline file attachments and saveToSentItems', async () => {
    const { graph, calls } = client(() => empty(202));
    await graph.sendMail({
      subject: 'Quarterly',
      body: { contentType: 'html', content: '<p>hi</p>' },
      toRecipients: [{ address: 'bob@contoso.example', name: 'Bob' }],
      ccRecipients: [{ address: 'carol@contoso.example' }],
      bccRecipients: [],
      attachments: [{ name: 'a.txt', contentType: 'text/plain', content: Buffer.from('hello') }],
    });
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('POST');
    expect(calls[0].url).toBe(`${BASE}/v1.0/me/sendMail`);
    expect(calls[0].body).toEqual({
      message: {
        subject: 'Quarterly',
        body: { contentType: 'html', content: '<p>hi</p>' },
        toRecipients: [{ emailAddress: { address: 'bob@contoso.example', name: 'Bob' } }],
        ccRecipients: [{ emailAddress: { address: 'carol@contoso.example' } }],
        bccRecipients: [],
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'a.txt',
            contentType: 'text/plain',
            contentBytes: Buffer.from('hello').toString('base64'),
          },
        ],
      },
      saveToSentItems: true,
    });
  });

  it('never repeats a POST Graph answered 504 (the mail may have gone); a PATCH is retried', async () => {
    const sent = client(() => graphError(504, 'UnknownError', 'gateway timeout', { 'Retry-After': '0' }));
    const err = await sent.graph
      .sendMail({
        subject: 's',
        body: { contentType: 'text', content: 'x' },
        toRecipients: [{ address: 'bob@contoso.example' }],
        ccRecipients: [],
        bccRecipients: [],
        attachments: [],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(sent.calls).toHaveLength(1);

    const patched = client((_, n) =>
      n === 1
        ? graphError(504, 'UnknownError', 'gateway timeout', { 'Retry-After': '0' })
        : json(200, { id: ID }),
    );
    await patched.graph.setRead(ID, true);
    expect(patched.calls).toHaveLength(2);
  });

  it('replies, replies to all and forwards in one call; or drafts, attaches and sends', async () => {
    const { graph, calls } = client((c) =>
      /create(Reply|ReplyAll|Forward)$/.test(c.url) ? json(201, { id: 'draft-1' }) : empty(202),
    );
    await graph.reply(ID, { replyAll: false, comment: 'thanks' });
    await graph.reply(ID, { replyAll: true, comment: 'all' });
    await graph.forward(ID, { comment: 'fyi', toRecipients: [{ address: 'dan@contoso.example' }] });
    await expect(graph.createReply(ID, { replyAll: true, comment: 'c' })).resolves.toBe('draft-1');
    await expect(
      graph.createForward(ID, { comment: 'f', toRecipients: [{ address: 'dan@contoso.example' }] }),
    ).resolves.toBe('draft-1');
    await graph.addAttachment('draft-1', {
      name: 'b.bin',
      contentType: 'application/pdf',
      content: Buffer.from([1, 2]),
    });
    await graph.sendDraft('draft-1');
    expect(calls.map((c) => [c.method, c.url.replace(`${BASE}/v1.0`, ''), c.body])).toEqual([
      ['POST', `/me/messages/${ENC}/reply`, { comment: 'thanks' }],
      ['POST', `/me/messages/${ENC}/replyAll`, { comment: 'all' }],
      [
        'POST',
        `/me/messages/${ENC}/forward`,
        { comment: 'fyi', toRecipients: [{ emailAddress: { address: 'dan@contoso.example' } }] },
      ],
      ['POST', `/me/messages/${ENC}/createReplyAll`, { comment: 'c' }],
      [
        'POST',
        `/me/messages/${ENC}/createForward`,
        { comment: 'f', toRecipients: [{ emailAddress: { address: 'dan@contoso.example' } }] },
      ],
      [
        'POST',
        '/me/messages/draft-1/attachments',
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'b.bin',
          contentType: 'application/pdf',
          contentBytes: Buffer.from([1, 2]).toString('base64'),
        },
      ],
      ['POST', '/me/messages/draft-1/send', {}],
    ]);
    expect(calls.every((c) => c.headers.prefer === 'IdType="ImmutableId"')).toBe(true);
  });

  it('a reply or forward with a whole body drafts it, replaces the body (Graph’s quote) and sends; Bcc in message', async () => {
    const { graph, calls } = client((c) =>
      /create(Reply|ReplyAll|Forward)$/.test(c.url)
        ? json(201, { id: 'draft-1' })
        : empty(c.method === 'PATCH' ? 200 : 202),
    );
    const body = {
      contentType: 'html' as const,
      content: '<p>Yes</p><p>On …, Ann wrote:</p><blockquote>q</blockquote>',
    };
    const bccRecipients = [{ address: 'boss@contoso.example' }];
    await graph.reply(ID, { replyAll: true, comment: '', body, bccRecipients });
    await graph.forward(ID, { comment: '', body, toRecipients: [{ address: 'dan@contoso.example' }] });
    // no body: Graph quotes under the comment as before, the Bcc in `message`
    await graph.reply(ID, { replyAll: false, comment: 'thanks', bccRecipients });
    const bcc = [{ emailAddress: { address: 'boss@contoso.example' } }];
    expect(calls.map((c) => [c.method, c.url.replace(`${BASE}/v1.0`, ''), c.body])).toEqual([
      ['POST', `/me/messages/${ENC}/createReplyAll`, { message: { bccRecipients: bcc } }],
      ['PATCH', '/me/messages/draft-1', { body }],
      ['POST', '/me/messages/draft-1/send', {}],
      [
        'POST',
        `/me/messages/${ENC}/createForward`,
        { toRecipients: [{ emailAddress: { address: 'dan@contoso.example' } }] },
      ],
      ['PATCH', '/me/messages/draft-1', { body }],
      ['POST', '/me/messages/draft-1/send', {}],
      ['POST', `/me/messages/${ENC}/reply`, { comment: 'thanks', message: { bccRecipients: bcc } }],
    ]);
  });

  it('resolves folders (404 = none) and lists the newest message ids of one', async () => {
    const { graph, calls } = client((c) =>
      c.url.includes('/messages')
        ? json(200, { value: [{ id: 'm2' }, { id: 'm1' }] })
        : c.url.includes('nope')
          ? graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.')
          : json(200, { id: 'folder-sent' }),
    );
    await expect(graph.folderId('sentitems')).resolves.toBe('folder-sent');
    await expect(graph.folderId('nope')).resolves.toBeNull();
    await expect(graph.newestMessageIds('sentitems', 2)).resolves.toEqual(['m2', 'm1']);
    const listed = new URL(calls[2].url);
    expect(listed.pathname).toBe('/v1.0/me/mailFolders/sentitems/messages');
    expect(listed.searchParams.get('$select')).toBe('id');
    expect(listed.searchParams.get('$orderby')).toBe('receivedDateTime desc');
    expect(listed.searchParams.get('$top')).toBe('2');
  });

  it('a missing message is GraphRequestError 404 ErrorItemNotFound; other 4xx keep Graph’s code', async () => {
    const gone = client(() =>
      graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
    );
    const err = await gone.graph.move(ID, 'archive').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphRequestError);
    expect(err).toMatchObject({ status: 404, code: 'ErrorItemNotFound' });

    const refused = client(() =>
      graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is required.'),
    );
    const e2 = await refused.graph
      .sendMail({
        subject: '',
        body: { contentType: 'text', content: '' },
        toRecipients: [],
        ccRecipients: [],
        bccRecipients: [],
        attachments: [],
      })
      .catch((e: unknown) => e);
    expect(e2).toMatchObject({ status: 400, code: 'ErrorInvalidRecipients' });
  });

  it('retries a 429 after its Retry-After, then gives up as GraphTransientError (status kept)', async () => {
    const ok = client((_c, n) =>
      n === 1
        ? graphError(429, 'ApplicationThrottled', 'over the limit', { 'retry-after': '2' })
        : json(200, {}),
    );
    await ok.graph.setRead(ID, false);
    expect(ok.calls).toHaveLength(2);
    expect(ok.sleeps).toEqual([2000]);

    const throttled = client(() =>
      graphError(429, 'ApplicationThrottled', 'over the limit', { 'retry-after': '1' }),
    );
    const err = await throttled.graph.delete(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphTransientError);
    expect((err as GraphTransientError).status).toBe(429);
  });

  it('never has more than 4 requests of one mailbox in flight', async () => {
    let inFlight = 0;
    let max = 0;
    const { graph } = client(async () => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return json(200, {});
    });
    await Promise.all(Array.from({ length: 12 }, (_v, i) => graph.setRead(`m${i}`, true)));
    expect(max).toBe(4);
  });
});
