import type { ChangesSince, MailAccountsRepository, MailChangesRepository } from '@email-core/database';
import { ListChangesQuery } from './list-changes.query';
import { ListChangesQueryHandler } from './list-changes.query-handler';

const userId = '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10';
const accountId = '0b8a4c1e-5c64-4a36-9d1f-0b0d6a1e2f3a';

function setup(opts: { owned?: boolean; page?: ChangesSince | null }) {
  const accounts = {
    findForUser: jest.fn(() => Promise.resolve(opts.owned === false ? null : { id: accountId })),
  };
  const changes = { since: jest.fn(() => Promise.resolve(opts.page ?? null)) };
  const handler = new ListChangesQueryHandler(
    accounts as unknown as MailAccountsRepository,
    changes as unknown as MailChangesRepository,
  );
  return { handler, accounts, changes };
}

const page: ChangesSince = {
  items: [{ seq: 4, kind: 'upserted', messageId: 'm1', folderId: 'f1', at: '2025-01-01T00:00:00.000Z' }],
  latestSeq: 9,
  hasMore: true,
};

describe('ListChangesQueryHandler', () => {
  it("returns the log's page for one of the user's accounts", async () => {
    const { handler, accounts, changes } = setup({ page });
    await expect(handler.execute(new ListChangesQuery(userId, accountId, 3, 1))).resolves.toEqual(page);
    expect(accounts.findForUser).toHaveBeenCalledWith(userId, accountId);
    expect(changes.since).toHaveBeenCalledWith(accountId, 3, 1);
  });

  it("answers someone else's (or no) account as ACCOUNT_NOT_FOUND, without reading the log", async () => {
    const { handler, changes } = setup({ owned: false, page });
    await expect(handler.execute(new ListChangesQuery(userId, accountId, 0, 500))).rejects.toMatchObject({
      status: 404,
      response: { error: 'ACCOUNT_NOT_FOUND' },
    });
    expect(changes.since).not.toHaveBeenCalled();
  });

  it('answers 410 CHANGES_EXPIRED when the log no longer reaches back to since', async () => {
    const { handler } = setup({ page: null });
    await expect(handler.execute(new ListChangesQuery(userId, accountId, 0, 500))).rejects.toMatchObject({
      status: 410,
      response: { error: 'CHANGES_EXPIRED' },
    });
  });

  it('answers 410 CHANGES_EXPIRED when since is ahead of the account (state this server never produced)', async () => {
    const { handler } = setup({ page: { items: [], latestSeq: 9, hasMore: false } });
    await expect(handler.execute(new ListChangesQuery(userId, accountId, 10, 500))).rejects.toMatchObject({
      status: 410,
    });
  });

  it('an up-to-date client gets an empty page', async () => {
    const upToDate = { items: [], latestSeq: 9, hasMore: false };
    const { handler } = setup({ page: upToDate });
    await expect(handler.execute(new ListChangesQuery(userId, accountId, 9, 500))).resolves.toEqual(upToDate);
  });
});
