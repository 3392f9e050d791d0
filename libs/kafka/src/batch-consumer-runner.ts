import { KafkaJSError, type IHeaders, type KafkaMessage } from 'kafkajs';
import { subscribeWhenReady } from './topics-admin';
import { runWithCorrelation } from '@email-core/logging';
import { correlationHeaders, correlationIdOf } from './correlation-headers';
import {
  decideFailure,
  deliveryAttempt,
  describeError,
  invalidMessageEnvelope,
  parseMessage,
} from './failure-policy';
import { watchAssignment } from './assignment';
import {
  isRebalance,
  outcomeReporter,
  type ConsumerLog,
  type RunConsumerOptions,
  type RunningConsumer,
} from './consumer-runner';

/** One message of a key's group, as the handler sees it. */
export interface GroupedMessage<T> {
  value: T;
  offset: string;
  /** 1-based delivery number of this message (1 = first delivery, 2 = first retry, ...) */
  attempt: number;
  headers: IHeaders;
}

export interface GroupContext {
  topic: string;
  partition: number;
  /** the group's key (`groupOf`; by default the messages' Kafka key, the account id) */
  key: string;
  /**
   * Aborted when the consumer stops or loses the partition. The batch is then left uncommitted and delivered
   * again, so the handler must be idempotent and resumable.
   */
  signal: AbortSignal;
}

export interface RunBatchConsumerOptions<T> extends Omit<RunConsumerOptions<T>, 'handle'> {
  /**
   * Handles messages of one key together, in offset order: every message of the key that arrived since its last
   * call. If it throws, each of those messages takes the failure path on its own (retry topic with backoff,
   * dead-letter after its last attempt), exactly as `runConsumer` routes a single message.
   */
  handleGroup: (key: string, messages: Array<GroupedMessage<T>>, ctx: GroupContext) => Promise<void>;
  /** what groups a message (default: its Kafka key), e.g. the account id its value names */
  groupOf?: (value: T, key: string) => string;
  /** keys handled at once by this member, over all of its partitions (default 4) */
  groupsConcurrently?: number;
  /**
   * Messages that may wait (e.g. a periodic sweep's): a key's background messages go in calls of their own, after
   * every key's other messages, in at most a quarter of `groupsConcurrently` calls, so a backlog of them never holds
   * up the others (nor another message of the same key: it goes in its own call). Default: none.
   */
  isBackground?: (value: T) => boolean;
  /**
   * messages of one partition fetched and not yet done (handled or routed) before its fetching waits for them
   * (default 1000): what bounds memory when the handler falls behind
   */
  maxPendingPerPartition?: number;
  /** how long a fetch waits for more messages to fill a batch (kafkajs `maxWaitTimeInMs`, default 5000) */
  maxWaitTimeInMs?: number;
  /** bytes fetched per partition at most (kafkajs `maxBytesPerPartition`, default 1 MiB) */
  maxBytesPerPartition?: number;
}

/** Thrown to kafkajs when the batch was abandoned because the consumer is stopping: no commit, no log noise. */
class BatchAbandonedError extends KafkaJSError {
  constructor() {
    super('consumer stopping; batch left uncommitted for redelivery', { retriable: true });
  }
}

interface ParsedMessage<T> extends GroupedMessage<T> {
  key: string;
  raw: string;
  /** its `x-correlation-id` header, if any */
  correlationId: string | undefined;
}

/** a call for messages of several correlation ids names at most this many of the others in its log line */
const MAX_JOINED_IDS_LOGGED = 20;

/** One fetched message's place in its partition: the commit point is the first one not done. */
interface Slot {
  offset: bigint;
  done: boolean;
}

/**
 * What this member holds of one partition in one generation of the group: its fetched messages in offset order
 * until they are done, and the signal of the work on them. A rebalance (kafkajs then fetches again from the
 * committed offset) or a rewind replaces it; the old one is aborted, and nothing done under it commits.
 */
interface PartitionState {
  topic: string;
  partition: number;
  controller: AbortController;
  slots: Slot[];
  /** slots not done */
  pending: number;
  /** the offset after the last fetched message */
  end: bigint | undefined;
  /** the last offset committed (the next one to read) */
  committed: bigint;
  committing: boolean;
  /** wakes the fetch waiting for room (`maxPendingPerPartition`) */
  room: (() => void) | undefined;
}

interface Entry<T> {
  message: ParsedMessage<T>;
  slot: Slot;
  state: PartitionState;
}

/** A key's messages waiting for their call (the background ones apart), and whether a call for it runs. */
interface KeyState<T> {
  running: boolean;
  urgent: Array<Entry<T>>;
  background: Array<Entry<T>>;
}

/**
 * A typed, coalescing consumer (kafkajs `eachBatch`) without head-of-line blocking: each fetched batch is
 * validated and its messages queued by key (`groupOf`), and the fetching goes on; up to `groupsConcurrently` keys
 * are handled at once over all of the member's partitions, in the order they became ready (`isBackground`
 * messages in calls of their own, after the others, in at most a quarter of the calls). A key is handled by one
 * call at a time: what arrives for it while its call runs waits and goes, all of it together, to its next call
 * right after (so a message during a call always causes another call, and a key's messages of a kind stay in
 * order; its background ones may go after later others). A slow
 * key holds up only itself: the other keys of its batch and of later batches go on. Offsets are committed per
 * partition up to the first message not yet done (handled, its writes durable, or routed to the retry /
 * dead-letter topic). A message that fails validation goes straight to the dead-letter topic. If routing a failure
 * fails, the partition is rewound to its first message not done, which is delivered again. A partition's fetching
 * waits once `maxPendingPerPartition` of its messages are not done.
 */
export async function runBatchConsumer<T>(opts: RunBatchConsumerOptions<T>): Promise<RunningConsumer> {
  const log: ConsumerLog = opts.log ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const outcome = outcomeReporter(opts.onOutcome);
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 3000;
  const groupsConcurrently = Math.max(1, opts.groupsConcurrently ?? 4);
  const maxPending = Math.max(1, opts.maxPendingPerPartition ?? 1000);
  const backgroundConcurrently = Math.max(1, Math.floor(groupsConcurrently / 4));
  const isBackground = opts.isBackground ?? (() => false);
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 45000,
    heartbeatInterval: heartbeatIntervalMs,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 5000,
    ...(opts.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: opts.maxBytesPerPartition }),
  });
  const partitions = new Map<number, PartitionState>();
  const keys = new Map<string, KeyState<T>>();
  /**
   * keys with messages waiting and no call running, oldest first: those with a message that is not background, and
   * those with background ones only (a key can be in both; a later look finds it taken or not due there)
   */
  const ready = { urgent: [] as string[], background: [] as string[] };
  const calls = new Set<Promise<void>>();
  let backgroundCalls = 0;
  let stopping = false;

  /** `from`: where this generation's fetching of the partition started (its committed offset) */
  const newState = (topic: string, partition: number, from: bigint): PartitionState => {
    const state: PartitionState = {
      topic,
      partition,
      controller: new AbortController(),
      slots: [],
      pending: 0,
      end: undefined,
      committed: from,
      committing: false,
      room: undefined,
    };
    partitions.set(partition, state);
    return state;
  };
  const abandon = (state: PartitionState, reason: unknown) => {
    if (partitions.get(state.partition) === state) partitions.delete(state.partition);
    state.controller.abort(reason);
    state.room?.();
  };
  /** kafkajs fetches every partition again from its committed offset after a join: start afresh */
  const abandonAll = (reason: unknown) => {
    for (const state of [...partitions.values()]) abandon(state, reason);
  };
  const done = (state: PartitionState, slot: Slot) => {
    if (slot.done) return;
    slot.done = true;
    state.pending -= 1;
  };

  /** commits the partition up to its first message not done, one commit at a time */
  const commit = (state: PartitionState): void => {
    if (state.committing || state.controller.signal.aborted) return;
    while (state.slots.length > 0 && state.slots[0].done) state.slots.shift();
    const point = state.slots[0]?.offset ?? state.end;
    if (point === undefined || point === state.committed) return;
    state.committing = true;
    consumer
      .commitOffsets([{ topic: state.topic, partition: state.partition, offset: point.toString() }])
      .then(
        () => {
          state.committing = false;
          state.committed = point;
          commit(state); // what got done meanwhile
        },
        (err: unknown) => {
          state.committing = false;
          // a rebalance: the next generation starts from what was committed before; else the next one retries
          if (!isRebalance(err) && !state.controller.signal.aborted) {
            log(
              'warn',
              `${state.topic}[${state.partition}]: commit at ${point} failed: ${describeError(err)}`,
            );
          }
        },
      );
  };
  const finish = (entries: Array<Entry<T>>) => {
    const touched = new Set<PartitionState>();
    for (const e of entries) {
      if (e.state.controller.signal.aborted) continue;
      done(e.state, e.slot);
      touched.add(e.state);
    }
    for (const state of touched) {
      commit(state);
      if (state.pending < maxPending) state.room?.();
    }
  };
  /** routing a failure failed: the partition starts again at its first message not done */
  const rewind = (state: PartitionState, err: unknown) => {
    if (state.controller.signal.aborted || stopping) return;
    const from = state.slots.find((s) => !s.done)?.offset;
    abandon(state, err);
    if (from === undefined) return;
    log('warn', `${state.topic}[${state.partition}]: rewinding to ${from}: ${describeError(err)}`);
    consumer.seek({ topic: state.topic, partition: state.partition, offset: from.toString() });
  };

  /**
   * A call handles messages that may come from several sources, each with its correlation id: it runs under the
   * first one's (a fresh one when none carries any), and says which other ids it answers, so a grep for any of
   * them finds the call.
   */
  const handleKey = (key: string, entries: Array<Entry<T>>): Promise<void> => {
    const ids = [...new Set(entries.map((e) => e.message.correlationId))];
    const first = ids.find((id) => id !== undefined);
    return runWithCorrelation(first, () => {
      const others = ids.filter((id): id is string => id !== undefined && id !== first);
      if (others.length > 0) {
        const shown = others.slice(0, MAX_JOINED_IDS_LOGGED).join(', ');
        const more = others.length - MAX_JOINED_IDS_LOGGED;
        log(
          'info',
          `group ${key}: ${entries.length} messages in one call, also for correlation ids ${shown}` +
            (more > 0 ? ` and ${more} more` : ''),
        );
      }
      return handleKeyNow(key, entries);
    });
  };

  const handleKeyNow = async (key: string, entries: Array<Entry<T>>): Promise<void> => {
    const states = [...new Set(entries.map((e) => e.state))];
    const signal =
      states.length === 1
        ? states[0].controller.signal
        : AbortSignal.any(states.map((s) => s.controller.signal));
    const first = entries[0].state;
    const messages = entries.map((e) => e.message);
    try {
      await opts.handleGroup(
        key,
        messages.map(({ value, offset, attempt, headers }) => ({ value, offset, attempt, headers })),
        { topic: first.topic, partition: first.partition, key, signal },
      );
      outcome('handled', messages.length);
    } catch (err) {
      if (signal.aborted) return; // delivered again after the rebalance, the rewind or the restart
      try {
        await routeFailure(first.topic, first.partition, key, messages, err);
      } catch (routeErr) {
        // the retry/dead-letter topic was unreachable: none of these may be committed
        for (const state of states) rewind(state, routeErr);
        return;
      }
    }
    finish(entries);
  };

  const live = (entries: Array<Entry<T>>) => entries.filter((e) => !e.state.controller.signal.aborted);
  /** the next key due in `kind`'s queue (dropping keys taken meanwhile), with the messages it is due for */
  const nextOf = (kind: 'urgent' | 'background'): [string, KeyState<T>, Array<Entry<T>>] | undefined => {
    const queue = ready[kind];
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const keyState = keys.get(key);
      if (!keyState || keyState.running) continue;
      keyState.urgent = live(keyState.urgent);
      keyState.background = live(keyState.background);
      if (keyState.urgent.length === 0 && keyState.background.length === 0) {
        keys.delete(key);
        continue;
      }
      // a key with urgent messages waits in the urgent queue; its background ones go in a call of their own after
      if (kind === 'background' && keyState.urgent.length > 0) continue;
      const entries = keyState[kind];
      if (entries.length === 0) continue;
      keyState[kind] = [];
      return [key, keyState, entries];
    }
    return undefined;
  };
  /**
   * Starts calls for due keys while there is room: the urgent messages first, in calls of their own (a live change
   * never waits for a sweep's round of its key), then the background ones in at most `backgroundConcurrently`.
   */
  const pump = (): void => {
    while (!stopping && calls.size < groupsConcurrently) {
      let background = false;
      let next = nextOf('urgent');
      if (!next && backgroundCalls < backgroundConcurrently) {
        next = nextOf('background');
        background = next !== undefined;
      }
      if (!next) return;
      const [key, keyState, entries] = next;
      keyState.running = true;
      if (background) backgroundCalls += 1;
      const call = handleKey(key, entries).finally(() => {
        calls.delete(call);
        if (background) backgroundCalls -= 1;
        keyState.running = false;
        if (keyState.urgent.length > 0) ready.urgent.push(key);
        else if (keyState.background.length > 0) ready.background.push(key);
        else keys.delete(key);
        pump();
      });
      calls.add(call);
    }
  };
  const enqueue = (key: string, entry: Entry<T>) => {
    let keyState = keys.get(key);
    if (!keyState) {
      keyState = { running: false, urgent: [], background: [] };
      keys.set(key, keyState);
    }
    if (isBackground(entry.message.value)) {
      if (!keyState.running && keyState.urgent.length === 0 && keyState.background.length === 0) {
        ready.background.push(key);
      }
      keyState.background.push(entry);
    } else {
      if (!keyState.running && keyState.urgent.length === 0) ready.urgent.push(key);
      keyState.urgent.push(entry);
    }
  };

  if (opts.onAssignment) watchAssignment(consumer, opts.topic, opts.onAssignment);
  consumer.on(consumer.events.GROUP_JOIN, () => abandonAll(new BatchAbandonedError()));

  await consumer.connect();
  try {
    await subscribeWhenReady(consumer, { topics: [opts.topic], fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const { topic, partition } = batch;
        if (batch.messages.length === 0 || stopping) return;
        const state =
          partitions.get(partition) ?? newState(topic, partition, BigInt(batch.messages[0].offset));
        const entries: Array<{ group: string; entry: Entry<T> }> = [];
        const invalid: Array<{
          slot: Slot;
          message: KafkaMessage;
          key: string;
          raw: string | null;
          error: string;
        }> = [];
        for (const message of batch.messages) {
          const slot: Slot = { offset: BigInt(message.offset), done: false };
          state.slots.push(slot);
          state.pending += 1;
          state.end = slot.offset + 1n;
          const key = message.key?.toString('utf8') ?? '';
          const raw = message.value?.toString('utf8') ?? null;
          const parsed = parseMessage(raw, opts.schema);
          if (!parsed.ok) {
            invalid.push({ slot, message, key, raw, error: parsed.error });
            continue;
          }
          entries.push({
            group: opts.groupOf ? opts.groupOf(parsed.value, key) : key,
            entry: {
              slot,
              state,
              message: {
                key,
                raw: raw ?? '',
                value: parsed.value,
                offset: message.offset,
                attempt: deliveryAttempt(message.headers),
                headers: message.headers ?? {},
                correlationId: correlationIdOf(message.headers),
              },
            },
          });
        }
        for (const { group, entry } of entries) enqueue(group, entry);
        pump();

        for (const bad of invalid) {
          try {
            await runWithCorrelation(correlationIdOf(bad.message.headers), () => {
              log('warn', `${topic}[${partition}]@${bad.message.offset}: ${bad.error}; sent to dead-letter`);
              return opts.publisher.publish(
                opts.deadLetterTopic,
                bad.key,
                invalidMessageEnvelope(topic, bad.key, bad.raw, bad.error, now()),
              );
            });
            outcome('dead_lettered', 1);
            done(state, bad.slot);
          } catch (err) {
            rewind(state, err);
            return;
          }
        }
        commit(state);

        // room for more: past `maxPending` of this partition's messages not done, the next fetch waits (with
        // heartbeats, so the membership stays alive, and learning of a rebalance through them)
        while (state.pending >= maxPending && !state.controller.signal.aborted && payload.isRunning()) {
          await new Promise<void>((resolve) => {
            const beat = setTimeout(resolve, heartbeatIntervalMs);
            state.room = () => {
              clearTimeout(beat);
              resolve();
            };
          });
          state.room = undefined;
          await payload.heartbeat().catch((err: unknown) => {
            if (isRebalance(err)) abandonAll(err);
          });
        }
        if (stopping) throw new BatchAbandonedError();
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }

  /** Each message of a failed group takes the failure path on its own, with its own attempt count. */
  async function routeFailure(
    topic: string,
    partition: number,
    group: string,
    messages: Array<ParsedMessage<T>>,
    err: unknown,
  ): Promise<void> {
    const at = now();
    // each message keeps its own Kafka key, so its retry lands on the same partition as the original
    const decisions = messages.map((m) => ({
      key: m.key,
      // each keeps its own correlation id (the call ran under the first one's; one without any gets the call's)
      headers: correlationHeaders(m.correlationId),
      decision: decideFailure(
        { topic, key: m.key, value: m.raw, attempt: m.attempt, error: err, now: at },
        opts.retry,
      ),
    }));
    const retried = decisions.filter((d) => d.decision.route === 'retry');
    const dead = decisions.filter((d) => d.decision.route === 'dead-letter');
    log(
      dead.length > 0 ? 'error' : 'warn',
      `${topic}[${partition}] group ${group}: ${messages.length} message(s) at ${messages[0]?.offset ?? '?'}..` +
        `${messages.at(-1)?.offset ?? '?'} failed: ${describeError(err)}; ` +
        `${retried.length} to retry, ${dead.length} to dead-letter`,
    );
    await opts.publisher.publishMany(
      opts.retryTopic,
      retried.map((d) => ({ key: d.key, value: d.decision.envelope, headers: d.headers })),
    );
    await opts.publisher.publishMany(
      opts.deadLetterTopic,
      dead.map((d) => ({ key: d.key, value: d.decision.envelope, headers: d.headers })),
    );
    outcome('retried', retried.length);
    outcome('dead_lettered', dead.length);
  }

  return {
    consumer,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      abandonAll(new BatchAbandonedError());
      // every call settles before the consumer leaves: no round still writes once the member is gone
      await Promise.allSettled([...calls]);
      await consumer.disconnect();
    },
  };
}
