import { randomBytes } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { subscribeWhenReady } from '@email-core/kafka';
import { Topics, type FailedMessage } from '@email-core/contracts';
import { apiCall } from './product';
import { codeInMail, readMailbox, type DevMailServer } from './dev-mail';
import { currentTestRun } from './test-run';
import { waitFor } from './wait-for';

/** What became of system mail that could not be sent: the retry topic's records and the dead-letter topic's. */
export interface SystemMailFailures {
  /** every failed send, as the retry topic carries it */
  readonly failed: FailedMessage[];
  /** system mail given up on */
  readonly deadLettered: FailedMessage[];
  stop(): Promise<void>;
}

/**
 * Reads the retry and dead-letter topics of one product (its `KAFKA_TOPIC_PREFIX`; start it `isolated`, or other test
 * files' system mail in the same run is counted too) from the beginning, in a consumer group of its own, and keeps the
 * records about the system-mail topic: how a test sees that sends failed, were retried, and were (not) given up.
 */
export async function watchSystemMailFailures(
  clientId: string,
  product: { env: Record<string, string> },
): Promise<SystemMailFailures> {
  const run = currentTestRun();
  const topicPrefix = product.env.KAFKA_TOPIC_PREFIX ?? run.topicPrefix;
  const kafka = new Kafka({ clientId, brokers: run.kafkaBrokers, logLevel: 0 });
  const consumer = kafka.consumer({
    groupId: `${clientId}-${Date.now()}`,
  });
  const failed: FailedMessage[] = [];
  const deadLettered: FailedMessage[] = [];
  const retry = `${topicPrefix}${Topics.retry}`;
  const topics = [retry, `${topicPrefix}${Topics.deadLetter}`];
  await consumer.connect();
  try {
    await subscribeWhenReady(consumer, { topics, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, message }) => {
        const value = JSON.parse(message.value?.toString('utf8') ?? '{}') as FailedMessage;
        if (value.topic?.endsWith(Topics.systemMail)) (topic === retry ? failed : deadLettered).push(value);
        return Promise.resolve();
      },
    });
  } catch (err) {
    // a connected consumer left behind keeps Jest from exiting (it hung a CI run after a failed subscribe)
    await consumer.disconnect();
    throw err;
  }
  return { failed, deadLettered, stop: () => consumer.disconnect() };
}

/** What a run of sign-in-code requests through an SMTP outage came to (see requestCodesThroughOutage). */
export interface OutageOutcome {
  /** per address: how many mails arrived and how many distinct Message-IDs they carry (a retry may duplicate) */
  perAddress: Array<{ mails: number; messageIds: number; code: string }>;
  /** distinct Message-IDs over all addresses (one per request when nothing is mixed up) */
  distinctMessageIds: number;
  /** failed sends seen in the retry topic, and system mail dead-lettered */
  failed: number;
  deadLettered: number;
  /** failure records that contain a code the mails carried, or the SMTP password */
  leaks: number;
}

/**
 * Takes the SMTP server away (`down`), requests a sign-in code for `count` new addresses, waits until every send has
 * failed at least once and `downForMs` has passed, brings it back (`up`), then waits for every mail in its Dovecot
 * mailbox: the outage scenario of issue 18, for a TCP cut (e2e) and for Postfix itself stopped (fault suite).
 */
export async function requestCodesThroughOutage(opts: {
  api: string;
  mail: DevMailServer;
  failures: SystemMailFailures;
  down: () => Promise<unknown>;
  up: () => Promise<unknown>;
  count?: number;
  downForMs?: number;
}): Promise<OutageOutcome> {
  const addresses = Array.from(
    { length: opts.count ?? 6 },
    () => `outage-${randomBytes(5).toString('hex')}@example.test`,
  );
  await opts.down();
  try {
    for (const email of addresses) {
      const res = await apiCall(opts.api, 'POST', '/api/v1/auth/code/request', { body: { email } });
      if (res.status !== 202)
        throw new Error(`code request for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await waitFor(() => Promise.resolve(opts.failures.failed.length >= addresses.length || undefined), {
      timeoutMs: 30_000,
      what: 'a failed send per request in the retry topic',
    });
    await new Promise((r) => setTimeout(r, opts.downForMs ?? 8000));
  } finally {
    await opts.up();
  }
  const received = await waitFor(
    async () => {
      const all = await Promise.all(addresses.map((a) => readMailbox(opts.mail, a)));
      return all.every((m) => m.length >= 1) ? all : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: 'every mail after the outage' },
  );
  const codes = received.map((mails) => codeInMail(mails[0]));
  const leaks = opts.failures.failed.filter(
    (f) =>
      f.error.includes(opts.mail.password) ||
      codes.some((code) => new RegExp(`(?<![0-9])${code}(?![0-9])`).test(f.value)),
  ).length;
  return {
    perAddress: received.map((mails, i) => ({
      mails: mails.length,
      messageIds: new Set(mails.map((m) => m.messageId)).size,
      code: codes[i],
    })),
    distinctMessageIds: new Set(received.flatMap((mails) => mails.map((m) => m.messageId))).size,
    failed: opts.failures.failed.length,
    deadLettered: opts.failures.deadLettered.length,
    leaks,
  };
}
