import { randomUUID } from 'node:crypto';
import {
  ProviderRefusedError,
  ProviderRegistry,
  ProviderUnavailableError,
  ReauthRequiredError,
} from '@email-core/providers';
import { StubbedMemoryProvider } from '@email-core/testing';
import type { MessageOwner } from '../../message-owner.repository';
import { KnownOwners } from '../../testing/known-owners';
import { ListAttachmentsQuery } from './list-attachments.query';
import { ListAttachmentsQueryHandler } from './list-attachments.query-handler';

const userId = randomUUID();
const accountId = randomUUID();

/** an account on the in-memory provider whose mailbox holds message `m1` with one attachment */
function setup(owner: MessageOwner | null = { id: accountId, provider: 'memory' }) {
  const provider = new StubbedMemoryProvider();
  const mailbox = provider.createMailbox(accountId, 'owner@example.test');
  const message = mailbox.add(mailbox.findFolder('inbox')?.id ?? '', {});
  const attachment = mailbox.addAttachment(message.id, {
    name: 'q3.pdf',
    contentType: 'application/pdf',
    content: Buffer.alloc(10),
    isInline: false,
  });
  const registry = new ProviderRegistry([provider], []);
  const mailboxOf = jest.spyOn(registry, 'mailbox');
  const owners = new KnownOwners(owner);
  const handler = new ListAttachmentsQueryHandler(owners, registry);
  return {
    run: () => handler.execute(new ListAttachmentsQuery(userId, message.id)),
    owners,
    mailboxOf,
    provider,
    messageId: message.id,
    attachmentId: attachment.id,
  };
}

describe('ListAttachmentsQueryHandler', () => {
  it("lists from the provider of the account whose mirror holds the message, through that account's mailbox", async () => {
    const { run, owners, mailboxOf, messageId, attachmentId } = setup();
    await expect(run()).resolves.toEqual([
      {
        id: attachmentId,
        name: 'q3.pdf',
        contentType: 'application/pdf',
        size: 10,
        isInline: false,
        kind: 'file',
      },
    ]);
    expect(owners.asked).toEqual([{ userId, messageId }]);
    expect(mailboxOf).toHaveBeenCalledWith({ id: accountId, provider: 'memory' });
  });

  it("answers a message in none of the user's accounts 404 MESSAGE_NOT_FOUND, without calling the provider", async () => {
    const { run, mailboxOf } = setup(null);
    await expect(run()).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    expect(mailboxOf).not.toHaveBeenCalled();
  });

  it.each([
    ['gone from Outlook', new ProviderRefusedError(404, 'ErrorItemNotFound', 'x'), 404, 'MESSAGE_NOT_FOUND'],
    ['refused', new ProviderRefusedError(403, 'ErrorAccessDenied', 'x'), 502, 'GRAPH_ERROR'],
    ['throttled', new ProviderUnavailableError(429, 'TooManyRequests', 'x', 7000), 503, 'GRAPH_UNAVAILABLE'],
    ['revoked', new ReauthRequiredError('invalid_grant'), 409, 'REAUTH_REQUIRED'],
  ])('maps the provider %s (%s) to %i %s', async (_what, failure, status, code) => {
    const { run, provider } = setup();
    provider.failure = failure;
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

  it("answers a message the provider no longer has (the memory adapter's own 404) 404 MESSAGE_NOT_FOUND", async () => {
    const { run, provider } = setup();
    provider.mailboxOf(accountId).delete(provider.mailboxOf(accountId).messages()[0].id);
    await expect(run()).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
  });
});
