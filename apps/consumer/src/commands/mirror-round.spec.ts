import { Logger } from '@nestjs/common';
import type { CommandBus } from '@nestjs/cqrs';
import { graphNotificationSchema } from '@email-core/contracts';
import type { KafkaPublisher } from '@email-core/kafka';
import type { KafkaTopics } from '../messaging/kafka-topics';
import { ApplyNotificationsCommand } from '../notifications/apply-notifications/apply-notifications.command';
import type { MirrorTouch } from './actions/action-result';
import { commandNotifications, MirrorRound } from './mirror-round';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('MirrorRound', () => {
  it('names the touched messages as valid graph.notifications, at most 1,000 items each', () => {
    const touched: MirrorTouch[] = Array.from({ length: 1501 }, (_v, i) => ({
      changeType: i % 2 ? 'updated' : 'deleted',
      messageId: `m${i}`,
    }));
    const notes = commandNotifications(ACCOUNT, touched, new Date('2026-01-01T00:00:00Z'));
    expect(notes.map((n) => n.items.length)).toEqual([1000, 501]);
    for (const n of notes) expect(graphNotificationSchema.parse(n)).toEqual(n);
    expect(notes[0].items[1]).toEqual({ changeType: 'updated', messageId: 'm1', resource: 'me/messages/m1' });
  });

  function round(apply: () => Promise<unknown>, publish: () => Promise<void> = () => Promise.resolve()) {
    const executed: ApplyNotificationsCommand[] = [];
    const published: Array<{ topic: string; count: number }> = [];
    const bus = {
      execute: (c: ApplyNotificationsCommand) => {
        executed.push(c);
        return apply();
      },
    };
    const publisher = {
      publishMany: (topic: string, messages: unknown[]) => {
        published.push({ topic, count: messages.length });
        return publish();
      },
    };
    const topics = { name: (t: string) => `p.${t}` };
    const mirror = new MirrorRound(
      bus as unknown as CommandBus,
      publisher as unknown as KafkaPublisher,
      topics as unknown as KafkaTopics,
    );
    return { mirror, executed, published };
  }

  it('runs ApplyNotifications in-process, and nothing when nothing was touched', async () => {
    const r = round(() => Promise.resolve('applied'));
    await r.mirror.converge(ACCOUNT, [], new AbortController().signal);
    expect(r.executed).toEqual([]);
    await r.mirror.converge(
      ACCOUNT,
      [{ changeType: 'updated', messageId: 'm1' }],
      new AbortController().signal,
    );
    expect(r.executed).toHaveLength(1);
    expect(r.executed[0]).toBeInstanceOf(ApplyNotificationsCommand);
    expect(r.executed[0].accountId).toBe(ACCOUNT);
    expect(r.published).toEqual([]);
  });

  it('hands the round to the notifications topic when it cannot run now, and never throws', async () => {
    const busy = round(() => Promise.reject(new Error('MAILBOX_BUSY')));
    await busy.mirror.converge(
      ACCOUNT,
      [{ changeType: 'deleted', messageId: 'm1' }],
      new AbortController().signal,
    );
    expect(busy.published).toEqual([{ topic: 'p.email-core.graph.notifications', count: 1 }]);

    const down = round(
      () => Promise.reject(new Error('MAILBOX_BUSY')),
      () => Promise.reject(new Error('kafka down')),
    );
    await expect(
      down.mirror.converge(
        ACCOUNT,
        [{ changeType: 'deleted', messageId: 'm1' }],
        new AbortController().signal,
      ),
    ).resolves.toBeUndefined();
  });
});
