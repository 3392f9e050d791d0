import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  apiCall,
  expectConverged,
  linkOutlook,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
  type SpawnedApp,
} from '@email-core/testing';

interface ExportMessage {
  immutableId: string;
  parentFolderId: string;
  subject: string;
  isRead: boolean;
  flag: { flagStatus: string };
}
interface ExportView {
  folders: Array<{ id: string; wellKnownName?: string | null }>;
  messages: ExportMessage[];
}
interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
  reasonCode: string | null;
  reason: string | null;
}

const PASSWORD = 'mailbox-password';
/** commands are run on this synced mailbox, and its sends go to PEER */
const ACT = 'act@sigterm.example';
const PEER = 'peer@sigterm.example';
/** linked during the test: its initial sync is in progress when the consumer gets SIGTERM */
const BIG = 'big@sigterm.example';
const BIG_MESSAGES = 20000;
/** how long a SIGTERMed app may take to exit on its own (the consumer took 10-25 s before its workers stopped
 * in parallel) */
const SHUTDOWN_LIMIT_MS = 8000;

/** SIGTERM, then the time until the process exited on its own, and how it exited. */
async function terminate(app: SpawnedApp): Promise<{ ms: number; exit: number | string }> {
  const started = Date.now();
  app.child.kill('SIGTERM');
  // never wait forever: a hung shutdown fails the test (by its time) rather than Jest's timeout
  const exit = await Promise.race([
    app.exited,
    new Promise<string>((r) => setTimeout(() => r('still running'), 60_000).unref()),
  ]);
  const ms = Date.now() - started;
  if (exit === 'still running') app.child.kill('SIGKILL');
  return { ms, exit };
}

/**
 * Issue 8, graceful shutdown: SIGTERM the consumer during an initial sync with mail commands in flight, and a
 * producer while command requests are in flight. Each exits on its own within a few seconds; nothing is half
 * written (after a restart the mailboxes converge with no duplicates), every command ends exactly once in Outlook
 * (a move lands once, a sent mail exists once), and no request answered 202 is lost.
 */
describe('graceful shutdown on SIGTERM', () => {
  let product: RunningProduct;
  let db: Client;
  let token = '';
  const accounts = new Map<string, string>();
  const shutdownMs: Record<string, number> = {};
  const started = Date.now();

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      producers: 2,
      consumers: 1,
      appEnv: { SUBSCRIPTION_CHECK_INTERVAL_MS: '2000', LOG_LEVEL: 'warn' },
    });
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    const seeds: Array<[string, number, number]> = [
      [ACT, 300, 1],
      [PEER, 20, 2],
      [BIG, BIG_MESSAGES, 3],
    ];
    for (const [address, messages, seed] of seeds) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address.split('@')[0],
        password: PASSWORD,
        seed: { messages, folders: 2, seed: 800 + seed },
      });
    }
    ({ token } = await signUp(product.api));
    for (const address of [ACT, PEER]) {
      const id = /linked=([0-9a-f-]{36})/.exec(await linkOutlook(product, token, address, PASSWORD))?.[1];
      if (!id) throw new Error(`no account id for ${address}`);
      accounts.set(address, id);
      await waitForAccountStatus(product.api, token, 'synced', { accountId: id });
    }
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  const exportOf = (address: string) =>
    product.emulator.admin<ExportView>('GET', `/_emulator/mailboxes/${address}/export?bodies=false`);
  const folderOf = (exp: ExportView, wellKnownName: string) => {
    const f = exp.folders.find((x) => x.wellKnownName === wellKnownName);
    if (!f) throw new Error(`no ${wellKnownName} folder`);
    return f.id;
  };
  /** submits through the load-balanced API with the client's own id, so a retry after a dropped request is safe */
  const submit = async (body: Record<string, unknown>): Promise<{ id: string; status: number }> => {
    const id = randomUUID();
    let last = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await apiCall<CommandView>(product.api, 'POST', '/api/v1/commands', {
          token,
          body: { id, accountId: accounts.get(ACT), ...body },
        });
        last = res.status;
        if (res.status === 202 || res.status === 200) return { id, status: res.status };
        if (res.status < 500) break; // refused for a reason: not a request to retry
      } catch {
        last = -1; // the connection dropped: the same id again
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { id, status: last };
  };
  const finished = (id: string) =>
    waitFor(
      async () => {
        const res = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${id}`, { token });
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `command ${id} to finish` },
    );
  const statusCounts = async (ids: string[]) => {
    const rows = (
      await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM mail_commands WHERE id = ANY($1::uuid[]) GROUP BY status`,
        [ids],
      )
    ).rows;
    return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
  };

  it('the consumer, SIGTERMed mid-sync with commands in flight, exits in seconds and nothing is half-written', async () => {
    const act = await exportOf(ACT);
    const inbox = folderOf(act, 'inbox');
    const archive = folderOf(act, 'archive');
    const inInbox = act.messages.filter((m) => m.parentFolderId === inbox);
    const toMove = inInbox.slice(0, 40).map((m) => m.immutableId);
    const toFlag = inInbox
      .slice(40)
      .filter((m) => m.flag.flagStatus === 'notFlagged')
      .slice(0, 20)
      .map((m) => m.immutableId);
    const toRead = inInbox
      .slice(40)
      .filter((m) => !m.isRead)
      .slice(0, 20)
      .map((m) => m.immutableId);
    expect(toFlag.length).toBe(20);
    expect(toRead.length).toBe(20);

    // the big mailbox's initial sync starts, and is well under way
    const big = /linked=([0-9a-f-]{36})/.exec(await linkOutlook(product, token, BIG, PASSWORD))?.[1];
    if (!big) throw new Error('no account id for the big mailbox');
    accounts.set(BIG, big);
    const mirrored = async () =>
      Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE account_id = $1', [big]))
          .rows[0].n,
      );
    await waitFor(async () => ((await mirrored()) >= 200 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: 'the initial sync to be under way',
    });

    // commands: moves of 5 messages each, flags, mark-read, and two sends to PEER
    const tag = randomUUID().slice(0, 8);
    const subjects = [`sigterm ${tag} one`, `sigterm ${tag} two`];
    const send = (subject: string) => ({
      action: 'send',
      subject,
      body: { contentType: 'text', content: 'sent while the consumer was stopping' },
      toRecipients: [{ address: PEER }],
    });
    const requests: Array<Record<string, unknown>> = [
      ...Array.from({ length: 8 }, (_, i) => ({
        action: 'move',
        messageIds: toMove.slice(i * 5, i * 5 + 5),
        destinationFolderId: archive,
      })),
      ...[0, 1].map((i) => ({
        action: 'flag',
        messageIds: toFlag.slice(i * 10, i * 10 + 10),
        flagStatus: 'flagged',
      })),
      ...[0, 1].map((i) => ({
        action: 'markRead',
        messageIds: toRead.slice(i * 10, i * 10 + 10),
        isRead: true,
      })),
    ];
    // one account's commands run in order: a send first (the one likely in flight at the signal), the rest at
    // once, a send last (queued across the restart)
    const submitted = [await submit(send(subjects[0]))];
    submitted.push(...(await Promise.all(requests.map((r) => submit(r)))));
    submitted.push(await submit(send(subjects[1])));
    expect(submitted.map((s) => s.status)).toEqual(submitted.map(() => 202));
    const ids = submitted.map((s) => s.id);
    // some commands have started (at least one claimed), then the consumer is told to stop
    await waitFor(
      async () => {
        const c = await statusCounts(ids);
        return (c.sent ?? 0) + (c.done ?? 0) > 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: 'a command to be claimed' },
    );
    const inFlight = async () =>
      (
        await db.query<{ action: string }>(
          `SELECT action FROM mail_commands WHERE id = ANY($1::uuid[]) AND status = 'sent'`,
          [ids],
        )
      ).rows.map((r) => r.action);
    const atSignal = {
      synced: await mirrored(),
      commands: await statusCounts(ids),
      inFlight: await inFlight(),
    };
    const stopped = await terminate(product.consumer);
    const atExit = { synced: await mirrored(), commands: await statusCounts(ids) };
    shutdownMs.consumer = stopped.ms;
    process.stdout.write(
      `consumer SIGTERM: exited (${String(stopped.exit)}) after ${stopped.ms} ms; at the signal ` +
        `${JSON.stringify(atSignal)}, at exit ${JSON.stringify(atExit)}\n`,
    );
    expect(stopped.exit).not.toBe('still running');
    expect(product.consumer.output()).not.toMatch(/\bERROR\b.*(shutdown|stopping)/i);
    expect(stopped.ms).toBeLessThan(SHUTDOWN_LIMIT_MS);
    // the sync was interrupted, not finished, so the restart really has to resume it
    expect(atExit.synced).toBeLessThan(BIG_MESSAGES);

    await product.restartConsumer();
    await waitForAccountStatus(product.api, token, 'synced', {
      accountId: big,
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    const results = await Promise.all(ids.map((id) => finished(id)));
    // graceful: nothing ended "outcome unknown" (a mail cut off mid-send), every command did its work
    expect(results.map((r) => `${r.status}${r.reasonCode ? ` ${r.reasonCode}` : ''}`)).toEqual(
      ids.map(() => 'done'),
    );

    const converged = await expectConverged(
      product,
      [ACT, PEER, BIG].map((address) => ({ address, accountId: accounts.get(address)! })),
      { timeoutMs: 120_000 },
    );
    expect(converged.duplicateRows).toBe(0);
    // exactly once in Outlook: each moved message once, in Archive; each sent mail once in Sent Items and
    // once in PEER's inbox
    const after = await exportOf(ACT);
    const peer = await exportOf(PEER);
    for (const id of toMove) {
      expect(after.messages.filter((m) => m.immutableId === id).map((m) => m.parentFolderId)).toEqual([
        archive,
      ]);
    }
    const sentItems = folderOf(after, 'sentitems');
    const peerInbox = folderOf(peer, 'inbox');
    for (const subject of subjects) {
      expect(after.messages.filter((m) => m.subject === subject).map((m) => m.parentFolderId)).toEqual([
        sentItems,
      ]);
      expect(peer.messages.filter((m) => m.subject === subject).map((m) => m.parentFolderId)).toEqual([
        peerInbox,
      ]);
    }
    for (const id of toFlag)
      expect(after.messages.find((m) => m.immutableId === id)?.flag.flagStatus).toBe('flagged');
    for (const id of toRead) expect(after.messages.find((m) => m.immutableId === id)?.isRead).toBe(true);
    expect(await mirrored()).toBe(BIG_MESSAGES);

    recordScenario({
      scenario: 'consumer SIGTERM during an initial sync with commands in flight',
      file: __filename,
      faults: [
        `consumer SIGTERM at ${atSignal.synced.toLocaleString('en-US')} of ${BIG_MESSAGES.toLocaleString('en-US')} ` +
          `messages synced, commands ${JSON.stringify(atSignal.commands)} (in flight: ${atSignal.inFlight.join(', ') || 'none'}); ` +
          `exited on its own in ${stopped.ms} ms`,
      ],
      converged,
      compared: {
        shutdownMs: stopped.ms,
        commands: ids.length,
        commandsDone: results.filter((r) => r.status === 'done').length,
        movedOnce: toMove.length,
        sentOnce: subjects.length,
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);

  it('a producer SIGTERMed with command requests in flight loses no accepted request', async () => {
    const testStarted = Date.now();
    // on its own too: the consumer is back even when the scenario before stopped short
    if (product.consumer.child.exitCode !== null || product.consumer.child.signalCode !== null)
      await product.restartConsumer();
    const act = await exportOf(ACT);
    const inbox = folderOf(act, 'inbox');
    const targets = act.messages.filter((m) => m.parentFolderId === inbox).slice(0, 60);
    expect(targets.length).toBe(60);
    // 60 requests, 6 at a time, through the load balancer; the first producer is told to stop after the 15th
    const outcomes: Array<{ id: string; status: number }> = [];
    let next = 0;
    let stopping: Promise<{ ms: number; exit: number | string }> | undefined;
    const victim = product.producers[0];
    const worker = async () => {
      while (next < targets.length) {
        const m = targets[next++];
        if (next === 15) stopping = terminate(victim);
        outcomes.push(
          await submit(
            next % 2 === 0
              ? { action: 'markRead', messageIds: [m.immutableId], isRead: !m.isRead }
              : {
                  action: 'flag',
                  messageIds: [m.immutableId],
                  flagStatus: m.flag.flagStatus === 'flagged' ? 'complete' : 'flagged',
                },
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    if (!stopping) throw new Error('the producer was never stopped');
    const stopped = await stopping;
    shutdownMs.producer = stopped.ms;
    process.stdout.write(`producer SIGTERM: exited (${String(stopped.exit)}) after ${stopped.ms} ms\n`);
    expect(stopped.exit).not.toBe('still running');
    expect(stopped.ms).toBeLessThan(SHUTDOWN_LIMIT_MS);

    // every request was accepted (by the stopping producer before it closed, or by the other one)
    const accepted = outcomes.filter((o) => o.status === 202 || o.status === 200);
    expect(outcomes.filter((o) => !accepted.includes(o))).toEqual([]);
    const stored = await statusCounts(accepted.map((o) => o.id));
    expect(Object.values(stored).reduce((n, v) => n + v, 0)).toBe(accepted.length);
    await product.restartProducer(0);
    const results = await Promise.all(accepted.map((o) => finished(o.id)));
    expect(results.filter((r) => r.status !== 'done')).toEqual([]);
    const converged = await expectConverged(product, [{ address: ACT, accountId: accounts.get(ACT)! }], {
      timeoutMs: 120_000,
    });
    recordScenario({
      scenario: 'producer SIGTERM with command requests in flight',
      file: __filename,
      faults: [`producer 1 of 2 SIGTERM after 15 of 60 requests; exited on its own in ${stopped.ms} ms`],
      converged,
      compared: {
        shutdownMs: stopped.ms,
        consumerShutdownMs: shutdownMs.consumer ?? 'n/a',
        requests: outcomes.length,
        accepted: accepted.length,
        stored: Object.values(stored).reduce((n, v) => n + v, 0),
        commandsDone: results.filter((r) => r.status === 'done').length,
      },
      durationMs: Date.now() - testStarted,
    });
  }, 180_000);
});
