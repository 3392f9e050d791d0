import { randomUUID } from 'node:crypto';
import type { MailCommandsRepository, MailCommandView } from '@email-core/database';
import { GetCommandQuery } from './get-command.query';
import { GetCommandQueryHandler } from './get-command.query-handler';

const userId = randomUUID();

describe('GetCommandQueryHandler', () => {
  const command: MailCommandView = {
    id: randomUUID(),
    accountId: randomUUID(),
    action: 'flag',
    status: 'failed',
    reasonCode: 'MESSAGE_GONE',
    reason: 'the message no longer exists in Outlook',
    draftId: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:01.000Z',
  };
  const repo = {
    findForUser: jest.fn((u: string, id: string) =>
      Promise.resolve(u === userId && id === command.id ? command : null),
    ),
  };
  const handler = new GetCommandQueryHandler(repo as unknown as MailCommandsRepository);

  it("returns the user's command (any case of its id)", async () => {
    await expect(handler.execute(new GetCommandQuery(userId, command.id.toUpperCase()))).resolves.toEqual(
      command,
    );
  });

  it.each([
    ['another user', randomUUID(), command.id],
    ['an unknown id', userId, randomUUID()],
    ['a malformed id', userId, 'not-a-uuid'],
  ])('answers %s with 404 COMMAND_NOT_FOUND', async (_what, u, id) => {
    await expect(handler.execute(new GetCommandQuery(u, id))).rejects.toMatchObject({
      code: 'COMMAND_NOT_FOUND',
      kind: 'not_found',
    });
  });
});
