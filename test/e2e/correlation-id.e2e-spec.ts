import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { REALTIME_PATH, type DomainEvent } from '@email-core/contracts';
import {
  linkOutlook,
  parseAppLogs,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type AppLogLine,
  type RunningProduct,
  type SpawnedApp,
  waitForActiveSubscription,
  waitForCatchUpRound,
} from '@email-core/testing';

const PASSWORD = 'mailbox-password';

/** what an app logged since `from` (a length of its output), as lines */
const linesSince = (app: SpawnedApp, from: number): AppLogLine[] => parseAppLogs(app.output().slice(from));
const show = (lines: AppLogLine[]) => lines.map((l) => l.raw).join('\n');

/**
 * Issue 22, "one id end to end": a change enters the product (a Graph notification of an emulator mailbox's change,
 * or a user's command through the API), reaches the user's socket, and every step logs a line under one correlation
 * id, carried between the apps in the Kafka messages' `x-correlation-id` header. The lines are read back from the
 * apps' own output, in both log formats.
 */
describe.each(['json', 'pretty'])('one correlation id end to end (LOG_FORMAT=%s)', (format) => {
  let product: RunningProduct;
  let socket: Socket | undefined;
  let token: string;
  let accountId: string;
  const received: Array<{ name: string; event: DomainEvent }> = [];
  const mailbox = `trace-${randomBytes(3).toString('hex')}@contoso.example`;

  /**
   * The producer's and the consumer's lines from now on: `read` waits until each app has logged the line that ends
   * its part of a path (the consumer logs a round's line after the round's events went out, so after the emit).
   */
  const watchLogs = () => {
    const producerFrom = product.producer.output().length;
    const consumerFrom = product.consumer.output().length;
    return (
      until: { producer: (l: AppLogLine) => boolean; consumer: (l: AppLogLine) => boolean },
      what: string,
    ) =>
      waitFor(
        () => {
          const producer = linesSince(product.producer, producerFrom);
          const consumer = linesSince(product.consumer, consumerFrom);
          return Promise.resolve(
            producer.some(until.producer) && consumer.some(until.consumer)
              ? { producer, consumer }
              : undefined,
          );
        },
        { timeoutMs: 15_000, intervalMs: 100, what },
      );
  };
  const nextEvent = (what: string, match: (r: { name: string; event: DomainEvent }) => boolean) =>
    waitFor(() => Promise.resolve(received.find(match)), { timeoutMs: 60_000, intervalMs: 100, what });

  beforeAll(async () => {
    product = await startProduct({
      appEnv: {
        LOG_LEVEL: 'log',
        LOG_FORMAT: format,
        SUBSCRIPTION_CHECK_INTERVAL_MS: '2000',
        // no reconciliation racing the webhook's round for the change (its rounds have ids of their own)
        RECONCILE_INTERVAL_SECONDS: '0',
      },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: mailbox,
      displayName: 'Trace Test',
      password: PASSWORD,
      seed: { messages: 20, folders: 1, seed: 2222 },
    });
    ({ token } = await signUp(product.api));
    await linkOutlook(product, token, mailbox, PASSWORD);
    accountId = (await waitForAccountStatus(product.api, token, 'synced')).id;
    await waitForActiveSubscription(product);
    // the subscription's catch-up round could otherwise take the emulator change before the webhook's round does
    await waitForCatchUpRound(product, accountId);
    socket = io(product.api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
    socket.onAny((name: string, event: DomainEvent) => received.push({ name, event }));
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
  }, 240_000);

  afterAll(async () => {
    socket?.disconnect();
    await product?.stop();
  });

  it("an emulator change: the webhook's line, the consumer's round and the socket emit share one id", async () => {
    const logs = watchLogs();
    received.length = 0;
    await product.emulator.admin('POST', `/_emulator/mailboxes/${mailbox}/activity`, {
      creates: 1,
      updates: 0,
      moves: 0,
      deletes: 0,
      seed: 2223,
      wait: true,
    });
    await nextEvent(
      'mail.changed on the socket',
      (r) => r.name === 'mail.changed' && r.event.accountId === accountId,
    );
    const isEmit = (l: AppLogLine) => l.msg.startsWith(`socket emit mail.changed of account ${accountId} `);
    const isRound = (l: AppLogLine) =>
      l.msg.startsWith(`round for account ${accountId}:`) && /-> [1-9]\d* change\(s\)/.test(l.msg);
    const lines = await logs(
      { producer: isEmit, consumer: isRound },
      "the producer's socket-emit line and the consumer's round line",
    );

    // the webhook's line: where the change came in, and the id it came in under
    const webhook = lines.producer.filter((l) => /^webhook accepted \d+ notification\(s\)/.test(l.msg));
    if (webhook.length === 0)
      throw new Error(`no webhook line; the producer logged:\n${show(lines.producer)}`);
    const id = webhook[0].correlationId;
    if (!id) throw new Error(`the webhook's line carries no correlation id:\n${show(webhook)}`);
    expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);

    // the consumer's round for the account, under the same id, which found the change
    const rounds = lines.consumer.filter((l) => l.msg.startsWith(`round for account ${accountId}:`));
    const round = rounds.find((l) => l.correlationId === id);
    if (!round) throw new Error(`no round line under ${id}; the consumer's rounds:\n${show(rounds)}`);
    expect(round.msg).toMatch(/-> [1-9]\d* change\(s\)/);

    // and the producer's emit of the event to the user's room, under the same id
    const emits = lines.producer.filter(isEmit);
    if (!emits.some((l) => l.correlationId === id)) {
      throw new Error(`no socket-emit line under ${id}; the emits:\n${show(emits)}`);
    }
    // the whole path in one grep of the id
    const path = [...lines.producer, ...lines.consumer].filter((l) => l.correlationId === id);
    expect(path.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^webhook accepted/),
        expect.stringMatching(new RegExp(`^round for account ${accountId}:`)),
        expect.stringMatching(new RegExp(`^socket emit mail\\.changed of account ${accountId} `)),
      ]),
    );
    // an emit under another id is another webhook POST's (the emulator may notify one change twice), never none
    const webhookIds = new Set(webhook.map((l) => l.correlationId));
    for (const l of emits) expect(webhookIds).toContain(l.correlationId);
  }, 120_000);

  it("an API command: the request's X-Request-Id is the id of its outbox message, the worker's lines and the emit", async () => {
    const db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    const { rows } = await db
      .query<{ remote_id: string }>(
        `SELECT remote_id FROM messages WHERE account_id = $1 ORDER BY received_at DESC LIMIT 1`,
        [accountId],
      )
      .finally(() => db.end());
    expect(rows).toHaveLength(1);

    const logs = watchLogs();
    received.length = 0;
    const requestId = `trace-cmd-${randomBytes(6).toString('hex')}`;
    const res = await fetch(`${product.api}/api/v1/commands`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({
        accountId,
        action: 'flag',
        flagStatus: 'flagged',
        messageIds: [rows[0].remote_id],
      }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(202);
    const { id: commandId } = (await res.json()) as { id: string };
    await nextEvent(
      'command.status done on the socket',
      (r) =>
        r.name === 'command.status' &&
        r.event.type === 'command.status' &&
        r.event.commandId === commandId &&
        r.event.status === 'done',
    );
    const isEmit = (l: AppLogLine) =>
      l.msg.startsWith(`socket emit command.status of account ${accountId} `) &&
      l.correlationId === requestId;
    const isDone = (l: AppLogLine) => l.msg === `command ${commandId} (flag) done`;
    const lines = await logs(
      { producer: isEmit, consumer: isDone },
      `the command.status emit under ${requestId} and the worker's line`,
    );

    // the producer's line for the request: its request id (reqId, and correlationId when the request sets one)
    const queued = lines.producer.find((l) => l.msg.startsWith(`command ${commandId} (flag) queued`));
    if (!queued) throw new Error(`no 'queued' line; the producer logged:\n${show(lines.producer)}`);
    expect(queued.correlationId ?? queued.reqId).toBe(requestId);
    const done = lines.consumer.find((l) => l.msg === `command ${commandId} (flag) done`);
    if (!done)
      throw new Error(`no worker line for the command; the consumer logged:\n${show(lines.consumer)}`);
    expect(done.correlationId).toBe(requestId);
  }, 120_000);
});
