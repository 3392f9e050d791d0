import { MailboxStore, type MailboxChange } from '../../store/mailbox-store';
import { subscriptionFactory } from '../testing/subscription.factory';
import { changeNotification, lifecycleNotification, matches } from './notification-payloads';

describe('notification payloads', () => {
  const store = new MailboxStore();
  const changes: MailboxChange[] = [];
  store.onChange((c) => changes.push(c));
  const mailbox = store.createMailbox({ address: 'ada@example.com' });
  const inbox = store.resolveFolder(mailbox, 'inbox')!;
  const archive = store.resolveFolder(mailbox, 'archive')!;

  beforeEach(() => (changes.length = 0));

  it('builds the documented change notification item', () => {
    const sub = subscriptionFactory(mailbox, { expiresAt: Date.parse('2026-03-02T00:00:00Z') });
    const msg = store.createMessage(inbox, { subject: 'hello' });
    const item = changeNotification(sub, changes[0]);
    const resource = `Users/${mailbox.userId}/Messages/${msg.id}`;
    const { id, ...rest } = item;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rest).toEqual({
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: '2026-03-02T00:00:00.000Z',
      changeType: 'created',
      resource,
      tenantId: mailbox.tenantId,
      clientState: 'secret-state',
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': resource,
        '@odata.etag': msg.etag,
        id: msg.id,
      },
    });
    expect(changeNotification(sub, changes[0]).id).not.toBe(item.id);
  });

  it('names the old id for the deleted half of a move and the new id for the created half', () => {
    const sub = subscriptionFactory(mailbox);
    const msg = store.createMessage(inbox, {});
    const oldId = msg.id;
    changes.length = 0;
    store.moveMessage(msg, archive);
    const [gone, arrived] = changes.map((c) => changeNotification(sub, c));
    expect(gone).toMatchObject({ changeType: 'deleted', resourceData: { id: oldId } });
    expect(arrived).toMatchObject({ changeType: 'created', resourceData: { id: msg.id } });
    expect(msg.id).not.toBe(oldId);
  });

  it('builds the documented lifecycle item', () => {
    const sub = subscriptionFactory(mailbox, {
      clientState: null,
      expiresAt: Date.parse('2026-03-02T00:00:00Z'),
    });
    expect(lifecycleNotification(sub, 'missed')).toEqual({
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: '2026-03-02T00:00:00.000Z',
      tenantId: mailbox.tenantId,
      clientState: null,
      lifecycleEvent: 'missed',
    });
  });

  it('matches on mailbox, change type and folder scope', () => {
    const other = store.createMailbox({ address: 'bob@example.com' });
    const msg = store.createMessage(inbox, {});
    store.updateMessage(msg, { isRead: true });
    const [created, updated] = changes;
    expect(matches(subscriptionFactory(mailbox), created)).toBe(true);
    expect(matches(subscriptionFactory(other), created)).toBe(false);
    expect(matches(subscriptionFactory(mailbox, { changeTypes: new Set(['created']) }), updated)).toBe(false);
    expect(matches(subscriptionFactory(mailbox, { folder: inbox }), created)).toBe(true);
    expect(matches(subscriptionFactory(mailbox, { folder: archive }), created)).toBe(false);
  });
});
