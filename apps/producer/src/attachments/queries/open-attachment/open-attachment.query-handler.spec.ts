import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ProviderRefusedError, ProviderRegistry, type RemoteAttachmentInfo } from '@email-core/providers';
import { StubbedMemoryProvider } from '@email-core/testing';
import { KnownOwners } from '../../testing/known-owners';
import { OpenAttachmentQuery } from './open-attachment.query';
import { OpenAttachmentQueryHandler } from './open-attachment.query-handler';

const userId = randomUUID();
const accountId = randomUUID();

/**
 * An account on the in-memory provider whose attachments answer with `info` (listing) and `contentType`
 * (download): a real provider may type the two differently, which the memory one never does.
 */
function setup(
  info: Partial<RemoteAttachmentInfo> | Error,
  contentType: string | null = 'application/octet-stream',
) {
  const body = Readable.from([Buffer.from('bytes')]);
  const client = {
    list: jest.fn(() => Promise.resolve([])),
    get: jest.fn(() =>
      info instanceof Error
        ? Promise.reject(info)
        : Promise.resolve<RemoteAttachmentInfo>({
            id: 'a',
            name: 'q3.pdf',
            contentType: 'application/pdf',
            size: 5,
            isInline: false,
            kind: 'file',
            ...info,
          }),
    ),
    openContent: jest.fn(() => Promise.resolve({ contentType, contentLength: 5, body })),
  };
  const provider = new StubbedMemoryProvider();
  provider.createMailbox(accountId, 'owner@example.test');
  provider.attachments = client;
  const handler = new OpenAttachmentQueryHandler(
    new KnownOwners({ id: accountId, provider: 'memory' }),
    new ProviderRegistry([provider], []),
  );
  return { run: () => handler.execute(new OpenAttachmentQuery(userId, 'm1', 'a')), client, body };
}

describe('OpenAttachmentQueryHandler', () => {
  it("streams the provider's bytes with the attachment's name and the provider's type", async () => {
    const { run, body } = setup({});
    await expect(run()).resolves.toEqual({
      name: 'q3.pdf',
      contentType: 'application/pdf',
      contentLength: 5,
      body,
    });
  });

  it("falls back to the download's own type, and to octet-stream for a malformed one", async () => {
    await expect(
      setup({ contentType: 'application/octet-stream' }, 'message/rfc822').run(),
    ).resolves.toMatchObject({
      contentType: 'message/rfc822',
    });
    await expect(setup({ contentType: 'text/html\r\nX: y' }, null).run()).resolves.toMatchObject({
      contentType: 'application/octet-stream',
    });
  });

  it('answers an attachment the provider does not have 404 ATTACHMENT_NOT_FOUND, without downloading', async () => {
    const { run, client } = setup(new ProviderRefusedError(404, 'ErrorItemNotFound', 'x'));
    await expect(run()).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    expect(client.openContent).not.toHaveBeenCalled();
  });
});
