import { randomUUID } from 'node:crypto';
import {
  GraphRequestError,
  GraphTransientError,
  ReauthRequiredError,
  type GraphAttachmentInfo,
} from '@email-core/graph';
import type { GraphAttachmentsFactory } from '../../graph-attachments.factory';
import type { MessageOwnerRepository } from '../../message-owner.repository';
import { ListAttachmentsQuery } from './list-attachments.query';
import { ListAttachmentsQueryHandler } from './list-attachments.query-handler';

const userId = randomUUID();
const accountId = randomUUID();
const item: GraphAttachmentInfo = {
  id: 'a1',
  name: 'q3.pdf',
  contentType: 'application/pdf',
  size: 10,
  isInline: false,
  kind: 'file',
};

function setup(list: () => Promise<GraphAttachmentInfo[]>, owner: string | null = accountId) {
  const owners = { accountOf: jest.fn(() => Promise.resolve(owner)) };
  const client = { list: jest.fn(list) };
  const factory = { forAccount: jest.fn(() => client) };
  const handler = new ListAttachmentsQueryHandler(
    owners as unknown as MessageOwnerRepository,
    factory as unknown as GraphAttachmentsFactory,
  );
  return { run: () => handler.execute(new ListAttachmentsQuery(userId, 'm1')), owners, factory, client };
}

describe('ListAttachmentsQueryHandler', () => {
  it('lists from Graph with the token of the account whose mirror holds the message', async () => {
    const { run, owners, factory, client } = setup(() => Promise.resolve([item]));
    await expect(run()).resolves.toEqual([item]);
    expect(owners.accountOf).toHaveBeenCalledWith(userId, 'm1');
    expect(factory.forAccount).toHaveBeenCalledWith(accountId);
    expect(client.list).toHaveBeenCalledWith('m1');
  });

  it("answers a message in none of the user's accounts 404 MESSAGE_NOT_FOUND, without calling Graph", async () => {
    const { run, factory } = setup(() => Promise.resolve([item]), null);
    await expect(run()).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    expect(factory.forAccount).not.toHaveBeenCalled();
  });

  it.each([
    ['gone from Outlook', new GraphRequestError(404, 'ErrorItemNotFound', 'x'), 404, 'MESSAGE_NOT_FOUND'],
    ['refused', new GraphRequestError(403, 'ErrorAccessDenied', 'x'), 502, 'GRAPH_ERROR'],
    ['throttled', new GraphTransientError(429, 'TooManyRequests', 'x', 7000), 503, 'GRAPH_UNAVAILABLE'],
    ['revoked', new ReauthRequiredError('invalid_grant'), 409, 'REAUTH_REQUIRED'],
  ])('maps Graph %s to %i %s', async (_what, failure, status, code) => {
    const { run } = setup(() => Promise.reject(failure));
    const err = (await run().catch((e: unknown) => e)) as {
      code?: string;
      kind?: string;
      retryAfterSeconds?: number;
      getStatus?: () => number;
      getResponse?: () => { error: string };
    };
    expect(err.code ?? err.getResponse?.().error).toBe(code);
    const statusOf = { not_found: 404, unavailable: 503 } as Record<string, number>;
    expect(err.getStatus?.() ?? statusOf[err.kind ?? '']).toBe(status);
    if (code === 'GRAPH_UNAVAILABLE') expect(err.retryAfterSeconds).toBe(7);
  });
});
