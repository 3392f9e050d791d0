import { Logger } from '@nestjs/common';
import { mailboxPokeSchema, type MailboxPoke } from '@email-core/contracts';
import type { KafkaPublisher } from '@email-core/kafka';
import type { KafkaTopics } from '../messaging/kafka-topics';
import type { MailboxRound } from '../mirror/mailbox-round';
import type { MirrorTouch } from './actions/action-result';
import { actionPokes, MirrorRound } from './mirror-round';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('MirrorRound', () => {
  it("names the touched messages as valid mailbox.pokes of source 'action', at most 1,000 changes each", () => {
    const touched: MirrorTouch[] = Array.from({ length: 1501 }, (_v, i) => ({
      changeType: i % 2 ? 'updated' : 'deleted',
      messageId: `m${i}`,
    }));
    const pokes = actionPokes(ACCOUNT, touched, new Date('2026-01-01T00:00:00Z'));
    expect(pokes.map((n) => n.changes.length)).toEqual([1000, 501]);
    for (const n of pokes) expect(mailboxPokeSchema.parse(n)).toEqual(n);
    expect(pokes.every((p) => p.source === 'action')).toBe(true);
    expect(pokes[0].changes[1]).toEqual({ kind: 'updated', messageId: 'm1' });
  });

  function round(apply: () => Promise<unknown>, publish: () => Promise<void> = () => Promise.resolve()) {
    const executed: Array<{ accountId: string; pokes: readonly MailboxPoke[] }> = [];
    const published: Array<{ topic: string; count: number }> = [];
    const core = {
      run: (accountId: string, pokes: readonly MailboxPoke[]) => {
        executed.push({ accountId, pokes });
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
      core as unknown as MailboxRound,
      publisher as unknown as KafkaPublisher,
      topics as unknown as KafkaTopics,
    );
    return { mirror, executed, published };
  }

  it("runs the mirror core's round in-process, and nothing when nothing was touched", async () => {
    const r = round(() => Promise.resolve('applied'));
    await r.mirror.converge(ACCOUNT, [], new AbortController().signal);
    expect(r.executed).toEqual([]);
    await r.mirror.converge(
      ACCOUNT,
      [{ changeType: 'updated', messageId: 'm1' }],
      new AbortController().signal,
    );
    expect(r.executed).toHaveLength(1);
    expect(r.executed[0].pokes[0].source).toBe('action');
    expect(r.executed[0].accountId).toBe(ACCOUNT);
    expect(r.published).toEqual([]);
  });

  it('hands the round to the pokes topic when it cannot run now, and never throws', async () => {
    const busy = round(() => Promise.reject(new Error('MAILBOX_BUSY')));
    await busy.mirror.converge(
      ACCOUNT,
      [{ changeType: 'deleted', messageId: 'm1' }],
      new AbortController().signal,
    );
    expect(busy.published).toEqual([{ topic: 'p.email-core.mailbox.pokes', count: 1 }]);

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
