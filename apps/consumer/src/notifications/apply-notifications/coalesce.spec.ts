import type { GraphNotification, GraphNotificationItem } from '@email-core/contracts';
import { coalesce, messageIdOf } from './coalesce';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

const notification = (receivedAt: string, items: GraphNotificationItem[]): GraphNotification => ({
  type: 'graph.notification',
  v: 1,
  accountId: ACCOUNT,
  subscriptionId: 'sub-1',
  items,
  receivedAt,
});
const item = (
  changeType: GraphNotificationItem['changeType'],
  messageId?: string,
  resource = '',
): GraphNotificationItem => ({
  changeType,
  ...(messageId === undefined ? {} : { messageId }),
  resource,
});

describe('coalesce', () => {
  it('merges duplicates and every change type per message, whatever the order, and keeps the earliest receipt', () => {
    const round = coalesce([
      notification('2026-01-01T00:00:02.000Z', [item('updated', 'm1'), item('created', 'm2')]),
      notification('2026-01-01T00:00:01.000Z', [item('deleted', 'm1'), item('updated', 'm1')]),
      notification('2026-01-01T00:00:03.000Z', [item('created', 'm2')]),
    ]);
    expect(round.changes).toEqual(
      new Map([
        ['m1', new Set(['updated', 'deleted'])],
        ['m2', new Set(['created'])],
      ]),
    );
    expect(round).toMatchObject({
      notifiedAt: '2026-01-01T00:00:01.000Z',
      notifications: 3,
      items: 5,
      unidentified: 0,
    });
  });

  it('takes the message id from the resource when resourceData had none, and counts items that name none', () => {
    const round = coalesce([
      notification('2026-01-01T00:00:00.000Z', [
        item('created', undefined, 'Users/u-1/Messages/AAMk%3D1'),
        item('updated', undefined, 'Users/u-1/mailFolders/inbox'),
      ]),
    ]);
    expect([...round.changes.keys()]).toEqual(['AAMk=1']);
    expect(round.unidentified).toBe(1);
  });

  it('refuses an empty round', () => {
    expect(() => coalesce([])).toThrow();
  });
});

describe('messageIdOf', () => {
  it.each([
    ['Users/5c1/Messages/AAMkAG=', 'AAMkAG='],
    ['me/messages/AAMkAG=', 'AAMkAG='],
    ["me/Messages('AAMkAG=')", 'AAMkAG='],
    ['/users/5c1/mailFolders/F1/messages/AAMk-1', 'AAMk-1'],
  ])('%s names %s', (resource, id) => {
    expect(messageIdOf(item('updated', undefined, resource))).toBe(id);
  });

  it('prefers resourceData.id', () => {
    expect(messageIdOf(item('updated', 'from-data', 'Users/x/Messages/from-resource'))).toBe('from-data');
  });

  it('names nothing for a resource that is not a message', () => {
    expect(messageIdOf(item('updated', undefined, 'Users/x/mailFolders/inbox/messages'))).toBeUndefined();
  });
});
