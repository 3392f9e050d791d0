import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type MailboxActions,
  type ManyIdsAction,
  type ManyIdsResult,
} from '@email-core/providers';
import type { BulkRequest } from './action-result';
import { MessageActions } from './message-actions';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const actions = new MessageActions({ idConcurrency: 4, concurrentPartitions: 1, lockWaitMs: 0 });
const signal = new AbortController().signal;
const notFound = () => new ProviderRefusedError(404, 'ErrorItemNotFound', 'no message');

/** A provider that acts on many ids at once (as IMAP does), answering what `answer` says. */
function many(answer: (ids: string[], action: ManyIdsAction) => Promise<ManyIdsResult[]>, folders = true) {
  const calls: Array<[string[], ManyIdsAction]> = [];
  const one = () => Promise.reject(new Error('acted on one id'));
  const provider = {
    setRead: one,
    setFlag: one,
    move: one,
    delete: one,
    folderId: (f: string) => Promise.resolve(folders ? f : null),
    applyMany: (ids: string[], action: ManyIdsAction) => {
      calls.push([ids, action]);
      return answer(ids, action);
    },
  } as unknown as MailboxActions;
  return { provider, calls };
}

const move = (messageIds: string[]): BulkRequest => ({
  accountId: ACCOUNT,
  action: 'move',
  messageIds,
  destinationFolderId: 'archive',
});

describe('MessageActions with a provider that acts on many ids at once', () => {
  it('makes one call for the whole command; per-id results become the outcome, new ids name the destination', async () => {
    const { provider, calls } = many((ids) =>
      Promise.resolve(
        ids.map((id): ManyIdsResult =>
          id === 'b'
            ? { id, ok: false, error: notFound() }
            : { id, ok: true, now: { id: `new-${id}`, parentFolderId: 'Archive' } },
        ),
      ),
    );
    const outcome = await actions.run(provider, move(['a', 'b', 'c', 'a']), signal);
    expect(calls).toEqual([[['a', 'b', 'c'], { action: 'move', destinationId: 'archive' }]]);
    expect(outcome.total).toBe(3);
    expect(outcome.failures).toEqual([
      { id: 'b', code: 'MESSAGE_GONE', message: expect.any(String) as string },
    ]);
    expect(outcome.touched).toEqual([
      { changeType: 'deleted', messageId: 'b' },
      { changeType: 'updated', messageId: 'a' },
      { changeType: 'updated', messageId: 'c' },
      { changeType: 'created', messageId: 'new-a' },
    ]);
  });

  it('a refusal other than 404 fails that id with its code', async () => {
    const { provider } = many((ids) =>
      Promise.resolve(
        ids.map((id): ManyIdsResult =>
          id === 'a'
            ? { id, ok: false, error: new ProviderRefusedError(400, 'IMAP_NO', 'refused') }
            : { id, ok: true },
        ),
      ),
    );
    const outcome = await actions.run(
      provider,
      { accountId: ACCOUNT, action: 'markRead', messageIds: ['a', 'b'], isRead: true },
      signal,
    );
    expect(outcome.failures).toEqual([{ id: 'a', code: 'IMAP_NO', message: 'refused' }]);
    expect(outcome.touched).toEqual([{ changeType: 'updated', messageId: 'b' }]);
  });

  it('a delete of messages already gone is done; one moved to Trash names Trash for the round', async () => {
    const { provider, calls } = many((ids) =>
      Promise.resolve([
        { id: ids[0], ok: false, error: notFound() },
        { id: ids[1], ok: true, now: { id: 'in-trash', parentFolderId: 'Trash' } },
      ]),
    );
    const outcome = await actions.run(
      provider,
      { accountId: ACCOUNT, action: 'delete', messageIds: ['x', 'y'] },
      signal,
    );
    expect(calls[0][1]).toEqual({ action: 'delete' });
    expect(outcome.failures).toEqual([]);
    expect(outcome.touched).toEqual([
      { changeType: 'deleted', messageId: 'x' },
      { changeType: 'deleted', messageId: 'y' },
      { changeType: 'created', messageId: 'in-trash' },
    ]);
  });

  it('a move refused as a whole because the destination is gone fails every id FOLDER_GONE', async () => {
    const { provider } = many(() => Promise.reject(notFound()), false);
    const outcome = await actions.run(provider, move(['a', 'b']), signal);
    expect(outcome.failures.map((f) => [f.id, f.code])).toEqual([
      ['a', 'FOLDER_GONE'],
      ['b', 'FOLDER_GONE'],
    ]);
    expect(outcome.touched).toEqual([]);
  });

  it('a transient failure is thrown (the command is redone); so is an abort', async () => {
    const unavailable = new ProviderUnavailableError(0, 'NoConnection', 'lost');
    const { provider } = many(() => Promise.reject(unavailable));
    await expect(actions.run(provider, move(['a']), signal)).rejects.toBe(unavailable);

    const controller = new AbortController();
    controller.abort(new Error('lease lost'));
    const { provider: idle, calls } = many(() => Promise.resolve([]));
    await expect(actions.run(idle, move(['a']), controller.signal)).rejects.toThrow('lease lost');
    expect(calls).toEqual([]);
  });
});
