import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { GraphRequestError, type GraphAttachmentInfo } from '@email-core/graph';
import type { GraphAttachmentsFactory } from '../../graph-attachments.factory';
import type { MessageOwnerRepository } from '../../message-owner.repository';
import { OpenAttachmentQuery } from './open-attachment.query';
import { OpenAttachmentQueryHandler } from './open-attachment.query-handler';

const userId = randomUUID();
const accountId = randomUUID();

function setup(
  info: Partial<GraphAttachmentInfo> | Error,
  contentType: string | null = 'application/octet-stream',
) {
  const body = Readable.from([Buffer.from('bytes')]);
  const client = {
    get: jest.fn(() =>
      info instanceof Error
        ? Promise.reject(info)
        : Promise.resolve({
            id: 'a',
            name: 'q3.pdf',
            contentType: 'application/pdf',
            size: 5,
            isInline: false,
            ...info,
          }),
    ),
    openContent: jest.fn(() => Promise.resolve({ contentType, contentLength: 5, body })),
  };
  const handler = new OpenAttachmentQueryHandler(
    { accountOf: () => Promise.resolve(accountId) } as unknown as MessageOwnerRepository,
    { forAccount: () => client } as unknown as GraphAttachmentsFactory,
  );
  return { run: () => handler.execute(new OpenAttachmentQuery(userId, 'm1', 'a')), client, body };
}

describe('OpenAttachmentQueryHandler', () => {
  it("streams Graph's bytes with the attachment's name and Graph's type", async () => {
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

  it('answers an attachment Graph does not have 404 ATTACHMENT_NOT_FOUND, without downloading', async () => {
    const { run, client } = setup(new GraphRequestError(404, 'ErrorItemNotFound', 'x'));
    await expect(run()).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    expect(client.openContent).not.toHaveBeenCalled();
  });
});
