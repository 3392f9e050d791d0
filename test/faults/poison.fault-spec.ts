import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { failedMessageSchema, Topics, type FailedMessage, type TopicName } from '@email-core/contracts';
import { createKafka, subscribeWhenReady } from '@email-core/kafka';
import {
  exportedState,
  expectConverged,
  linkOutlook,
  mirroredState,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

/** deliveries in all before the dead-letter topic, and the waits between them (the product's defaults are 5, and minutes) */
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [8000, 8000];

interface Activity {
  total: number;
  done: number;
}

/**
 * Issue 8, a poison message: published straight to a work topic, keyed by a real mailbox's account id so it
 * shares that mailbox's partition. One fails its schema (straight to the dead-letter topic); one is well formed
 * but its handler throws on every delivery (a sync request for an account whose tokens were sealed under a key the
 * deployment no longer has), so it takes the retry topic with backoff and reaches the dead-letter topic after
 * KAFKA_RETRY_MAX_ATTEMPTS deliveries. Meanwhile the real mailbox behind it on the same partition keeps syncing and
 * live-updating, and converges before the poison is even given up on.
 */
describe('poison messages: bounded retries, the dead-letter topic, and a partition that keeps moving', () => {
  let product: RunningProduct;
  let db: Client;
  let kafka: Kafka;
  let producer: Producer;
  let watcher: Consumer;
  let prefix = '';
  /** every envelope on the retry and dead-letter topics, as they arrive */
  const retried: FailedMessage[] = [];
  const dead: FailedMessage[] = [];

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      appEnv: {
        LOG_LEVEL: 'warn',
        KAFKA_RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        KAFKA_RETRY_BACKOFF_MS: BACKOFF_MS.join(','),
      },
    });
    prefix = product.env.KAFKA_TOPIC_PREFIX ?? '';
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    kafka = createKafka({
      brokers: product.env.KAFKA_BROKERS.split(','),
      clientId: 'poison-fault',
      retries: 3,
    });
    // the product's partitioner (murmur2): a message keyed by an account lands on that account's partition
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }, 180_000);

  afterAll(async () => {
    await watcher?.disconnect();
    await producer?.disconnect();
    await db?.end();
    await product?.stop();
  });

  const topic = (t: TopicName) => `${prefix}${t}`;
  const admin = <T>(method: string, path: string, body?: unknown) =>
    product.emulator.admin<T>(method, path, body);
  const inSync = async (accountId: string, address: string) =>
    JSON.stringify(await mirroredState(db, accountId)) ===
    JSON.stringify(await exportedState(admin, address));
  /** collects the retry and dead-letter topics from their start (they exist once the consumer is up) */
  const watch = async () => {
    watcher = kafka.consumer({ groupId: `${prefix}poison-fault-watch-${randomUUID()}` });
    await watcher.connect();
    await subscribeWhenReady(watcher, {
      topics: [topic(Topics.retry), topic(Topics.deadLetter)],
      fromBeginning: true,
    });
    await watcher.run({
      eachMessage: ({ topic: from, message }) => {
        const envelope = failedMessageSchema.parse(JSON.parse(message.value?.toString() ?? 'null'));
        (from === topic(Topics.deadLetter) ? dead : retried).push(envelope);
        return Promise.resolve();
      },
    });
  };
  const send = async (to: TopicName, key: string, value: string): Promise<number> => {
    const [meta] = await producer.send({ topic: topic(to), acks: -1, messages: [{ key, value }] });
    return meta.partition;
  };

  it('a schema miss and a handler that always throws reach the dead-letter topic; the mailbox on their partition converges meanwhile', async () => {
    const started = Date.now();
    const address = 'victim@poison.example';
    await admin('POST', '/_emulator/mailboxes', { address, seed: { messages: 300, folders: 3, seed: 31 } });
    const { token } = await signUp(product.api);
    const dashboard = await linkOutlook(product, token, address);
    const accountId = /linked=([0-9a-f-]{36})/.exec(dashboard)?.[1] ?? '';
    expect(accountId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForAccountStatus(product.api, token, 'synced', { accountId, timeoutMs: 150_000 });
    await watch();

    // A second account of the same user whose tokens were sealed under a key this deployment no longer has
    // (a key rotated out too early): every sync of it fails to unseal them, and retrying cannot help.
    const decoyId = randomUUID();
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, display_name, status, token_key_id,
                                  access_token_enc, access_token_expires_at, refresh_token_enc, sync_started_at)
       SELECT $2, user_id, 'retired-key-user', 'retired-key@poison.example', 'Retired key', 'syncing', 'retired',
              'AAAA', now() + interval '1 hour', 'AAAA', now()
         FROM mail_accounts WHERE id = $1`,
      [accountId, decoyId],
    );

    // 1. Mail changes while Graph drops every notification: only a sync can bring them in. A sync request for
    //    the mailbox is published right behind the throwing message, on the same partition.
    await admin('POST', '/_emulator/faults', { notifications: { drop: 1 } });
    const quiet = await admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, {
      creates: 15,
      updates: 15,
      moves: 10,
      deletes: 10,
      seed: 32,
      wait: true,
    });
    await admin('POST', '/_emulator/faults', { notifications: { drop: 0 } });
    expect(quiet.done).toBe(quiet.total);
    expect(await inSync(accountId, address)).toBe(false);

    const throwing = JSON.stringify({
      type: 'sync.requested',
      v: 1,
      accountId: decoyId,
      reason: 'manual',
      requestedAt: new Date().toISOString(),
    });
    const poisonedAt = Date.now();
    const throwingPartition = await send(Topics.syncRequests, accountId, throwing);
    const syncPartition = await send(
      Topics.syncRequests,
      accountId,
      JSON.stringify({
        type: 'sync.requested',
        v: 1,
        accountId,
        reason: 'manual',
        requestedAt: new Date().toISOString(),
      }),
    );
    expect(syncPartition).toBe(throwingPartition);

    await waitFor(async () => ((await inSync(accountId, address)) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${address} to be synced past the poison`,
    });
    const syncedAfterSeconds = (Date.now() - poisonedAt) / 1000;
    // the poison was still being retried: the partition did not wait for it
    const deadAtSync = dead.filter((d) => d.value === throwing).length;
    expect(deadAtSync).toBe(0);

    // 2. A message that fails its schema on the pokes topic, on the mailbox's partition, then live mail whose
    //    pokes travel the same partition behind it.
    const invalid = JSON.stringify({
      type: 'mailbox.poke',
      v: 1,
      accountId,
      source: 'webhook',
      changes: [{ kind: 'exploded', messageId: 'x' }],
      receivedAt: new Date().toISOString(),
    });
    const invalidPartition = await send(Topics.mailboxPokes, accountId, invalid);
    expect(invalidPartition).toBe(throwingPartition);
    const liveAt = Date.now();
    const live = await admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, {
      creates: 10,
      updates: 10,
      moves: 5,
      deletes: 5,
      seed: 33,
      wait: true,
    });
    expect(live.done).toBe(live.total);
    await waitFor(async () => ((await inSync(accountId, address)) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${address} to follow the live changes past the invalid message`,
    });
    const liveAfterSeconds = (Date.now() - liveAt) / 1000;

    // 3. Both reach the dead-letter topic: the schema miss at its first delivery, the throwing one after
    //    exactly MAX_ATTEMPTS deliveries (MAX_ATTEMPTS - 1 trips through the retry topic), and nothing after.
    const letters = await waitFor(
      () => {
        const schemaMiss = dead.find((d) => d.value === invalid);
        const gaveUp = dead.find((d) => d.value === throwing);
        return Promise.resolve(schemaMiss && gaveUp ? { schemaMiss, gaveUp } : undefined);
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'both poison messages on the dead-letter topic' },
    );
    const deadLetteredAfterSeconds = (Date.now() - poisonedAt) / 1000;
    expect(letters.schemaMiss).toMatchObject({
      topic: topic(Topics.mailboxPokes),
      key: accountId,
      attempt: 1,
    });
    expect(letters.schemaMiss.error).toMatch(/^INVALID_MESSAGE: changes\.0\.kind/);
    expect(letters.gaveUp).toMatchObject({
      topic: topic(Topics.syncRequests),
      key: accountId,
      attempt: MAX_ATTEMPTS,
    });
    expect(letters.gaveUp.error).toMatch(/No encryption key with id "retired" is configured/);
    const retries = retried.filter((r) => r.value === throwing);
    expect(retries.map((r) => r.attempt)).toEqual(Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => i + 1));
    expect(retried.filter((r) => r.value === invalid)).toEqual([]);

    const converged = await expectConverged(product, [{ accountId, address }], { timeoutMs: 90_000 });
    // still exactly these two dead letters of this run: nothing else failed, nothing failed twice
    expect(dead.map((d) => d.value).sort()).toEqual([invalid, throwing].sort());
    expect(converged.deadLetters).toBe(2);

    recordScenario({
      scenario: 'poison messages on a mailbox partition: schema miss + always-throwing handler',
      file: __filename,
      faults: [
        `invalid mailbox.poke (kind "exploded") on partition ${invalidPartition}`,
        `sync.requested whose handler always throws (tokens under a retired key) on partition ${throwingPartition}`,
        `KAFKA_RETRY_MAX_ATTEMPTS=${MAX_ATTEMPTS}, KAFKA_RETRY_BACKOFF_MS=${BACKOFF_MS.join(',')}`,
      ],
      converged,
      compared: {
        schemaMissAttempts: letters.schemaMiss.attempt,
        throwingAttempts: letters.gaveUp.attempt,
        retryTopicTrips: retries.length,
        mailboxSyncedAfterSeconds: Number(syncedAfterSeconds.toFixed(1)),
        deadLettersAtThatMoment: deadAtSync,
        liveChangesConvergedAfterSeconds: Number(liveAfterSeconds.toFixed(1)),
        deadLetteredAfterSeconds: Number(deadLetteredAfterSeconds.toFixed(1)),
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);
});
