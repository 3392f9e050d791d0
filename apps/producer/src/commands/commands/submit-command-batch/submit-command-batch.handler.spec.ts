import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { commandBatchRequestSchema, MAX_BATCH_MESSAGES } from '@email-core/contracts';
import type {
  CommandBatchView,
  MailAccountsRepository,
  MailCommandBatchesRepository,
  NewCommandBatch,
} from '@email-core/database';
import type { CommandChecksRepository } from '../../command-checks.repository';
import type { MailCommandOutbox } from '../../mail-command-outbox';
import { SubmitCommandBatch } from './submit-command-batch.command';
import { batchRequestHash, SubmitCommandBatchHandler } from './submit-command-batch.handler';

const userId = randomUUID();
const accountId = randomUUID();
const manager = { tx: true } as unknown as EntityManager;
const ids = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function setup(
  opts: {
    owned?: boolean;
    mirror?: string[];
    /** what the selection resolves to, or its error */
    selected?: readonly string[] | 'FOLDER_NOT_FOUND';
    folders?: Record<string, string>;
    fingerprint?: { userId: string; requestHash: string } | null;
    create?: { created: false; sameRequest: boolean };
  } = {},
) {
  const events: string[] = [];
  const stored: NewCommandBatch[] = [];
  const mirror = new Set(opts.mirror ?? ids(1200));
  const accounts = {
    findForUser: jest.fn(() => Promise.resolve(opts.owned === false ? null : { id: accountId })),
  };
  const checks = {
    missingMessages: jest.fn((_a: string, list: string[]) =>
      Promise.resolve(list.filter((i) => !mirror.has(i))),
    ),
    folderId: jest.fn((_a: string, name: string) => Promise.resolve(opts.folders?.[name] ?? null)),
  };
  const view = (id: string): CommandBatchView => ({
    id,
    accountId,
    action: stored[0]?.action ?? 'markRead',
    status: 'queued',
    messages: stored[0]?.messageCount ?? 0,
    commands: stored[0]?.commands.length ?? 0,
    counts: { queued: stored[0]?.commands.length ?? 0, sent: 0, done: 0, failed: 0 },
    reasonCode: null,
    reason: null,
    createdAt: '2026-12-05T00:00:00.000Z',
    updatedAt: '2026-12-05T00:00:00.000Z',
  });
  const batches = {
    fingerprint: jest.fn(() => Promise.resolve(opts.fingerprint ?? null)),
    resolveSelection: jest.fn((_s: unknown, _f: unknown, exclude: string[], max: number) =>
      Promise.resolve(
        opts.selected === 'FOLDER_NOT_FOUND'
          ? { ok: false, error: 'FOLDER_NOT_FOUND' }
          : {
              ok: true,
              value: (opts.selected ?? ids(1200)).filter((i) => !exclude.includes(i)).slice(0, max + 1),
            },
      ),
    ),
    create: jest.fn((m: EntityManager, b: NewCommandBatch) => {
      expect(m).toBe(manager);
      events.push('create');
      stored.push(b);
      return Promise.resolve(opts.create ?? { created: true });
    }),
    findForUser: jest.fn((_u: string, id: string) => Promise.resolve(view(id))),
  };
  const outbox = {
    add: jest.fn((m: EntityManager) => {
      expect(m).toBe(manager);
      events.push('outbox');
      return Promise.resolve();
    }),
    committed: jest.fn(() => events.push('committed')),
  };
  const dataSource = {
    transaction: jest.fn(async (fn: (m: EntityManager) => Promise<unknown>) => {
      events.push('begin');
      const result = await fn(manager);
      events.push('commit');
      return result;
    }),
  };
  const handler = new SubmitCommandBatchHandler(
    accounts as unknown as MailAccountsRepository,
    checks as unknown as CommandChecksRepository,
    batches as unknown as MailCommandBatchesRepository,
    outbox as unknown as MailCommandOutbox,
    dataSource as unknown as DataSource,
  );
  const submit = (body: Record<string, unknown>) =>
    handler.execute(new SubmitCommandBatch(userId, commandBatchRequestSchema.parse({ accountId, ...body })));
  return { submit, events, stored, batches, outbox, checks };
}

const refusal = async (p: Promise<unknown>) => {
  const err = (await p.catch((e: unknown) => e)) as {
    code?: string;
    getResponse?: () => { error: string };
    getStatus?: () => number;
  };
  return err.code ?? err.getResponse?.().error;
};

describe('SubmitCommandBatchHandler', () => {
  it('a selection of 1,200 messages: three commands of at most 500 ids, stored with their outbox rows in one transaction', async () => {
    const { submit, events, stored, batches, outbox } = setup({ folders: { archive: 'AAMk-archive=' } });
    const result = await submit({
      action: 'move',
      destinationFolderId: 'archive',
      selection: { folderId: 'inbox-id', unread: true, from: '  carol ', excludeIds: [] },
    });
    expect(result.created).toBe(true);
    expect(batches.resolveSelection).toHaveBeenCalledWith(
      { userId, accountId },
      { folderId: 'inbox-id', unread: true, from: 'carol' },
      [],
      MAX_BATCH_MESSAGES,
    );
    expect(events).toEqual(['begin', 'create', 'outbox', 'outbox', 'outbox', 'commit', 'committed']);
    const batch = stored[0];
    expect(batch).toMatchObject({ userId, accountId, action: 'move', messageCount: 1200 });
    expect(batch.commands.map((c) => (c.request.messageIds as string[]).length)).toEqual([500, 500, 200]);
    // every id once, in the order the selection gave them; the destination stored as the folder's id
    expect(batch.commands.flatMap((c) => c.request.messageIds as string[])).toEqual(ids(1200));
    expect(batch.commands[0].request).toMatchObject({
      accountId,
      action: 'move',
      destinationFolderId: 'AAMk-archive=',
    });
    expect(batch.commands[0].request).not.toHaveProperty('id');
    expect(outbox.add.mock.calls.map((c) => (c as unknown[])[1])).toEqual(
      batch.commands.map((c) => ({ id: c.id, accountId, action: 'move' })),
    );
  });

  it('leaves out the excluded ids, and takes explicit ids (each once) beyond 500', async () => {
    const excluded = setup();
    await excluded.submit({ action: 'delete', selection: { excludeIds: ['m0', 'm7'] } });
    expect(excluded.stored[0].messageCount).toBe(1198);
    const explicit = setup();
    await explicit.submit({ action: 'markRead', isRead: true, messageIds: [...ids(700), 'm1', 'm2'] });
    expect(explicit.stored[0].commands.map((c) => (c.request.messageIds as string[]).length)).toEqual([
      500, 200,
    ]);
    expect(explicit.stored[0].commands[1].request).toMatchObject({ action: 'markRead', isRead: true });
  });

  describe('refuses before anything is written', () => {
    it.each([
      ['ACCOUNT_NOT_FOUND', { owned: false }, { action: 'delete', messageIds: ['m1'] }],
      ['MESSAGE_NOT_FOUND', {}, { action: 'delete', messageIds: ['m1', 'someone-elses'] }],
      ['UNKNOWN_FOLDER', {}, { action: 'move', destinationFolderId: 'nowhere', selection: {} }],
      [
        'FOLDER_NOT_FOUND',
        { selected: 'FOLDER_NOT_FOUND' as const },
        { action: 'delete', selection: { folderId: 'x' } },
      ],
      ['NOTHING_SELECTED', { selected: [] }, { action: 'delete', selection: { unread: true } }],
      ['NOTHING_SELECTED', { selected: ['a'] }, { action: 'delete', selection: { excludeIds: ['a'] } }],
      ['BATCH_TOO_LARGE', { selected: ids(MAX_BATCH_MESSAGES + 1) }, { action: 'delete', selection: {} }],
    ] as const)('%s', async (code, opts, body) => {
      const { submit, events } = setup(opts);
      expect(await refusal(submit(body))).toBe(code);
      expect(events).toEqual([]);
    });

    it('a request naming both ids and a selection, or neither, or another action, fails the schema', () => {
      const parse = (b: Record<string, unknown>) =>
        commandBatchRequestSchema.safeParse({ accountId, ...b }).success;
      expect(parse({ action: 'delete', messageIds: ['m1'], selection: {} })).toBe(false);
      expect(parse({ action: 'delete' })).toBe(false);
      expect(parse({ action: 'send', selection: {} })).toBe(false);
      expect(parse({ action: 'delete', selection: { folderId: 'f', bogus: 1 } })).toBe(false);
      expect(parse({ action: 'delete', selection: { unread: 'yes' } })).toBe(false);
      expect(
        parse({
          action: 'delete',
          selection: { after: '2026-02-01T00:00:00Z', before: '2026-01-01T00:00:00Z' },
        }),
      ).toBe(false);
      expect(parse({ action: 'delete', messageIds: ids(MAX_BATCH_MESSAGES + 1) })).toBe(false);
    });
  });

  describe('an id seen before', () => {
    const body = { action: 'delete', selection: { folderId: 'f' } };
    const hash = batchRequestHash(commandBatchRequestSchema.parse({ accountId, ...body }));

    it('same user, same request: the batch as it is, nothing resolved or queued again', async () => {
      const id = randomUUID();
      const { submit, events, batches } = setup({ fingerprint: { userId, requestHash: hash } });
      const result = await submit({ ...body, id });
      expect(result).toMatchObject({ created: false, batch: { id } });
      expect(batches.resolveSelection).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });

    it('another request or another user: 409 BATCH_ID_CONFLICT', async () => {
      const id = randomUUID();
      const other = setup({ fingerprint: { userId, requestHash: 'another' } });
      expect(await refusal(other.submit({ ...body, id }))).toBe('BATCH_ID_CONFLICT');
      const stranger = setup({ fingerprint: { userId: randomUUID(), requestHash: hash } });
      expect(await refusal(stranger.submit({ ...body, id }))).toBe('BATCH_ID_CONFLICT');
    });

    it('a concurrent submit of the same id that won the insert: no outbox rows, its batch or a conflict', async () => {
      const same = setup({ create: { created: false, sameRequest: true } });
      await expect(same.submit({ ...body, id: randomUUID() })).resolves.toMatchObject({ created: false });
      expect(same.outbox.add).not.toHaveBeenCalled();
      expect(same.outbox.committed).not.toHaveBeenCalled();
      const differs = setup({ create: { created: false, sameRequest: false } });
      expect(await refusal(differs.submit({ ...body, id: randomUUID() }))).toBe('BATCH_ID_CONFLICT');
    });
  });
});
