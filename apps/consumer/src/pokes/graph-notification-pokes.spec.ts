import type { GraphNotification, GraphNotificationItem } from '@email-core/contracts';
import { coalesce } from '../mirror/coalesce';
import { messageIdOf, pokeOfNotificationWork } from './graph-notification-pokes';

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

describe('graph.notification as a poke (until the webhook publishes pokes)', () => {
  it('takes the message id from the resource when resourceData had none, and counts items that name none', () => {
    const round = coalesce([
      pokeOfNotificationWork(
        notification('2026-01-01T00:00:00.000Z', [
          item('created', undefined, 'Users/u-1/Messages/AAMk%3D1'),
          item('updated', undefined, 'Users/u-1/mailFolders/inbox'),
        ]),
      ),
    ]);
    expect([...round.changes.keys()]).toEqual(['AAMk=1']);
    expect(round.unidentified).toBe(1);
  });

  it('reads the old reconciliation as an every-folder poke', () => {
    const poke = pokeOfNotificationWork({
      type: 'mailbox.reconcile',
      v: 1,
      accountId: ACCOUNT,
      requestedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(poke).toMatchObject({ source: 'reconcile', everyFolder: true, changes: [] });
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
