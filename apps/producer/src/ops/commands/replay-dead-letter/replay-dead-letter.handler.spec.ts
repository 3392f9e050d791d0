import type { DeadLetterReader, DeadLetterRecord } from '../../dead-letters/dead-letter-reader';
import type { DeadLetterRef, DeadLetterReplays, ReplayClaim } from '../../dead-letters/dead-letter-replays';
import type { OpsKafka } from '../../ops-kafka';
import { ReplayDeadLetterCommand } from './replay-dead-letter.command';
import { ReplayDeadLetterHandler } from './replay-dead-letter.handler';

const WORK_TOPIC = 'p.email-core.mail.commands';
const original = '{"type":"mail.command","v":1,"accountId":"a"}';

const envelope = (topic = WORK_TOPIC) =>
  JSON.stringify({
    type: 'message.failed',
    v: 1,
    topic,
    key: 'acc-1',
    value: original,
    attempt: 5,
    error: 'boom',
    failedAt: '2025-01-01T00:00:00.000Z',
    notBefore: '2025-01-01T00:00:00.000Z',
  });

function setup(opts: { record?: DeadLetterRecord | null; publishFails?: boolean } = {}) {
  const record: DeadLetterRecord | null =
    opts.record === undefined
      ? {
          partition: 3,
          offset: '17',
          key: 'acc-1',
          value: envelope(),
          timestamp: '1735689600000',
          correlationId: 'c0rr-1d',
        }
      : opts.record;
  const marks = new Map<string, string>();
  const keyOf = (r: DeadLetterRef) => `${r.partition}:${r.offset}:${r.timestamp}`;
  const published: Array<{ topic: string; key: string; value: unknown; opts: unknown }> = [];
  const reader = { at: jest.fn(() => Promise.resolve(record)) };
  const replays = {
    claim: jest.fn((r: DeadLetterRef, at: string, force: boolean): Promise<ReplayClaim> => {
      const previous = marks.get(keyOf(r)) ?? null;
      if (previous !== null && !force) return Promise.resolve({ claimed: false, replayedAt: previous });
      marks.set(keyOf(r), at);
      return Promise.resolve({ claimed: true, previous });
    }),
    release: jest.fn((r: DeadLetterRef, previous: string | null) => {
      if (previous === null) marks.delete(keyOf(r));
      else marks.set(keyOf(r), previous);
      return Promise.resolve();
    }),
  };
  const kafka = {
    replayTargets: () => new Set([WORK_TOPIC]),
    publisher: {
      publish: jest.fn((topic: string, key: string, value: unknown, o?: unknown) => {
        if (opts.publishFails) return Promise.reject(new Error('broker gone'));
        published.push({ topic, key, value, opts: o });
        return Promise.resolve();
      }),
    },
  };
  const handler = new ReplayDeadLetterHandler(
    kafka as unknown as OpsKafka,
    reader as unknown as DeadLetterReader,
    replays as unknown as DeadLetterReplays,
  );
  return { handler, reader, published, marks, replays };
}

/** the error a handler call failed with (an AppError: code, kind, details) */
async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).name).toBe('AppError');
    return err;
  }
  throw new Error('expected an AppError');
}

describe('ReplayDeadLetterHandler', () => {
  it('publishes the original value with its key and correlation id, no failure header, and records the replay', async () => {
    const { handler, reader, published, marks } = setup();
    const result = await handler.execute(new ReplayDeadLetterCommand(3, 17, false));
    expect(reader.at).toHaveBeenCalledWith(3, 17n);
    expect(published).toEqual([
      {
        topic: WORK_TOPIC,
        key: 'acc-1',
        value: original,
        opts: { headers: { 'x-correlation-id': 'c0rr-1d' } },
      },
    ]);
    expect(result).toMatchObject({
      partition: 3,
      offset: 17,
      originalTopic: WORK_TOPIC,
      key: 'acc-1',
      previouslyReplayedAt: null,
    });
    expect(marks.get('3:17:1735689600000')).toBe(result.replayedAt);
  });

  it('a second replay is 409 ALREADY_REPLAYED and sends nothing; with force it is sent again', async () => {
    const { handler, published } = setup();
    const first = await handler.execute(new ReplayDeadLetterCommand(3, 17, false));
    const err = await errorOf(handler.execute(new ReplayDeadLetterCommand(3, 17, false)));
    expect(err).toMatchObject({
      code: 'ALREADY_REPLAYED',
      kind: 'conflict',
      details: { replayedAt: first.replayedAt },
    });
    expect(published).toHaveLength(1);
    const forced = await handler.execute(new ReplayDeadLetterCommand(3, 17, true));
    expect(forced.previouslyReplayedAt).toBe(first.replayedAt);
    expect(published).toHaveLength(2);
  });

  it('an offset the topic does not hold is 404 DEAD_LETTER_NOT_FOUND', async () => {
    const { handler } = setup({ record: null });
    expect(await errorOf(handler.execute(new ReplayDeadLetterCommand(0, 999, false)))).toMatchObject({
      code: 'DEAD_LETTER_NOT_FOUND',
      kind: 'not_found',
    });
  });

  it('a message that is not an envelope, or names no work topic, is 409 DEAD_LETTER_NOT_REPLAYABLE', async () => {
    const garbage = setup({
      record: { partition: 0, offset: '1', key: '', value: 'nope', timestamp: '1', correlationId: null },
    });
    expect(await errorOf(garbage.handler.execute(new ReplayDeadLetterCommand(0, 1, false)))).toMatchObject({
      code: 'DEAD_LETTER_NOT_REPLAYABLE',
    });
    const events = setup({
      record: {
        partition: 0,
        offset: '1',
        key: '',
        value: envelope('p.email-core.events'),
        timestamp: '1',
        correlationId: null,
      },
    });
    const err = await errorOf(events.handler.execute(new ReplayDeadLetterCommand(0, 1, true)));
    expect(err).toMatchObject({ code: 'DEAD_LETTER_NOT_REPLAYABLE', kind: 'conflict' });
    expect(events.published).toEqual([]);
    expect(events.replays.claim).not.toHaveBeenCalled();
  });

  it('a failed publish is 503 and leaves the dead letter not replayed', async () => {
    const { handler, marks } = setup({ publishFails: true });
    expect(await errorOf(handler.execute(new ReplayDeadLetterCommand(3, 17, false)))).toMatchObject({
      code: 'OPS_KAFKA_UNAVAILABLE',
      kind: 'unavailable',
    });
    expect(marks.size).toBe(0);
  });
});
