import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { REALTIME_PATH, type DomainEvent } from '@email-core/contracts';
import {
  exportedState,
  linkOutlook,
  mirroredState,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface Activity {
  id: number;
  total: number;
  done: number;
  state: string;
}
interface EmulatorSubscription {
  id: string;
  notificationUrl: string;
  expirationDateTime: string;
  state: string;
}
interface NotificationStats {
  attempts: number;
  deliveredItems: number;
  failed: number;
  dropped: number;
  latencyMs: Record<string, number>;
}

const activeSubscriptions = async (product: RunningProduct): Promise<EmulatorSubscription[]> =>
  (
    await product.emulator.admin<{ value: EmulatorSubscription[] }>('GET', '/_emulator/subscriptions')
  ).value.filter((s) => s.state === 'active');

/** One socket client: every event it received, with the time it arrived. */
interface Listener {
  socket: Socket;
  events: Array<{ name: string; event: DomainEvent; at: number }>;
}

const MAILBOXES = ['ada@live.example', 'alan@live.example', 'grace@live.example'] as const;
const PASSWORD = 'mailbox-password';
/** 2,000 changes in all, ~667 per mailbox, paced over 40 s: 50 changes per second */
const PER_MAILBOX = [
  { creates: 200, updates: 267, moves: 100, deletes: 100 },
  { creates: 200, updates: 267, moves: 100, deletes: 100 },
  { creates: 200, updates: 266, moves: 100, deletes: 100 },
];
const SECONDS = 40;

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Issue 5, end to end on the real stack and the emulator, with two producers (behind a round-robin proxy, as a
 * load balancer would be) and two consumers: 2,000 random changes at 50 per second across three linked mailboxes,
 * while the emulator duplicates 10 % of notifications, reorders them and drops 5 %; then a burst whose
 * notifications are all dropped, which only the `missed` lifecycle event that follows can make good. After
 * quiescence every mailbox in Postgres equals the emulator's export, and each user's socket saw only their own
 * mailboxes' events.
 */
describe('live mail: notifications keep the mirror current and reach only the owner', () => {
  let product: RunningProduct;
  let db: Client;
  const accounts = new Map<string, { accountId: string; owner: 'A' | 'B' }>();
  const listeners: Record<'A' | 'B', Listener[]> = { A: [], B: [] };

  const connect = (api: string, token: string): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const socket = io(api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
      const listener: Listener = { socket, events: [] };
      socket.onAny((name: string, event: DomainEvent) =>
        listener.events.push({ name, event, at: Date.now() }),
      );
      socket.once('connect', () => resolve(listener));
      socket.once('connect_error', (err) => reject(err));
    });

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      producers: 2,
      consumers: 2,
      appEnv: { SUBSCRIPTION_CHECK_INTERVAL_MS: '2000', LOG_LEVEL: 'warn' },
    });
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    for (const [i, address] of MAILBOXES.entries()) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address.split('@')[0],
        password: PASSWORD,
        seed: { messages: 300, folders: 2, seed: 500 + i },
      });
    }
  }, 180000);

  afterAll(async () => {
    for (const l of [...listeners.A, ...listeners.B]) l.socket.disconnect();
    await db?.end();
    await product?.stop();
  });

  /** The mailbox as Postgres holds it, and as the emulator's export holds it, projected alike. */
  const mirrorOf = (accountId: string) => mirroredState(db, accountId);
  const expectedOf = (address: string) => exportedState(product.emulator.admin, address);
  /** until no mirror of the three mailboxes has changed for 3 s (the consumer has no round left to run) */
  const waitForQuietMirrors = async () => {
    let last = '';
    let since = Date.now();
    await waitFor(
      async () => {
        const now = JSON.stringify(
          await Promise.all(MAILBOXES.map((a) => mirrorOf(accounts.get(a)!.accountId))),
        );
        if (now !== last) {
          last = now;
          since = Date.now();
        }
        return Date.now() - since >= 3000 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 500, what: 'the mirrors to stop changing' },
    );
  };

  it('links three mailboxes (two for user A, one for user B) and subscribes each exactly once', async () => {
    const a = await signUp(product.api);
    const b = await signUp(product.api);
    const owners = [
      { user: a, owner: 'A' as const },
      { user: a, owner: 'A' as const },
      { user: b, owner: 'B' as const },
    ];
    for (const [i, address] of MAILBOXES.entries()) {
      const { user, owner } = owners[i];
      await linkOutlook(product, user.token, address, PASSWORD);
      const res = await fetch(`${product.api}/api/v1/accounts`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      const items = ((await res.json()) as { items: Array<{ id: string; email: string }> }).items;
      const account = items.find((x) => x.email === address);
      if (!account) throw new Error(`no account for ${address}`);
      accounts.set(address, { accountId: account.id, owner });
      await waitForAccountStatus(product.api, user.token, 'synced', { accountId: account.id });
    }
    // one subscription per mailbox, pointing at our public URL
    const subs = await waitFor(
      async () => {
        const list = await activeSubscriptions(product);
        return list.length >= 3 ? list : undefined;
      },
      { timeoutMs: 60000, what: 'three subscriptions' },
    );
    expect(subs).toHaveLength(3);
    for (const s of subs) expect(s.notificationUrl).toBe(`${product.api}/api/v1/graph/notifications`);

    // user A listens on both API instances, user B on the second
    listeners.A.push(await connect(product.apis[0], a.token), await connect(product.apis[1], a.token));
    listeners.B.push(await connect(product.apis[1], b.token));
    for (const address of MAILBOXES) {
      const { accountId } = accounts.get(address)!;
      expect(await mirrorOf(accountId)).toEqual(await expectedOf(address));
    }
  }, 240000);

  it('2,000 changes at 50/s with duplicated, reordered and dropped notifications converge on the export', async () => {
    if (accounts.size !== 3) throw new Error('needs the linked mailboxes of the previous test');
    await product.emulator.admin('POST', '/_emulator/faults', {
      notifications: { drop: 0.05, duplicate: 0.1, reorder: true },
    });
    const started = Date.now();
    const runs = await Promise.all(
      MAILBOXES.map((address, i) =>
        product.emulator.admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, {
          ...PER_MAILBOX[i],
          seconds: SECONDS,
          seed: 77 + i,
        }),
      ),
    );
    expect(runs.reduce((n, r) => n + r.total, 0)).toBe(2000);
    await waitFor(
      async () => {
        const states = await Promise.all(
          MAILBOXES.map((address, i) =>
            product.emulator.admin<Activity>('GET', `/_emulator/mailboxes/${address}/activity/${runs[i].id}`),
          ),
        );
        return states.every((s) => s.state === 'finished') ? true : undefined;
      },
      { timeoutMs: (SECONDS + 60) * 1000, intervalMs: 1000, what: 'the activity to finish' },
    );
    const activitySeconds = (Date.now() - started) / 1000;

    // Then every notification is lost for a short burst, so only the `missed` lifecycle event (which Graph sends
    // once it gave up delivering) can bring the mirror back: the mirror must differ before it and converge after.
    // First the consumer finishes the rounds the activity asked for (the mirror stops changing): a round still
    // catching up when the burst starts would read the burst's changes with its folders' deltas.
    await waitForQuietMirrors();
    await product.emulator.admin('POST', '/_emulator/faults', { notifications: { drop: 1 } });
    for (const [i, address] of MAILBOXES.entries()) {
      await product.emulator.admin('POST', `/_emulator/mailboxes/${address}/activity`, {
        creates: 10,
        updates: 10,
        moves: 5,
        deletes: 5,
        seed: 900 + i,
        wait: true,
      });
    }
    await new Promise((r) => setTimeout(r, 3000));
    for (const address of MAILBOXES) {
      const { accountId } = accounts.get(address)!;
      expect(JSON.stringify(await mirrorOf(accountId))).not.toBe(JSON.stringify(await expectedOf(address)));
    }
    await product.emulator.admin('POST', '/_emulator/faults', {
      notifications: { drop: 0, duplicate: 0, reorder: false },
    });
    const { notifications } = await product.emulator.admin<{ notifications: NotificationStats }>(
      'GET',
      '/_emulator/stats',
    );
    expect(notifications.dropped).toBeGreaterThan(90);
    for (const s of await activeSubscriptions(product)) {
      await product.emulator.admin('POST', '/_emulator/faults', {
        lifecycle: { subscriptionId: s.id, event: 'missed' },
      });
    }

    // quiescence: every mailbox in Postgres equals the export
    const quiet = Date.now();
    for (const address of MAILBOXES) {
      const { accountId } = accounts.get(address)!;
      await waitFor(
        async () => {
          const [mirror, expected] = await Promise.all([mirrorOf(accountId), expectedOf(address)]);
          return JSON.stringify(mirror) === JSON.stringify(expected) ? true : undefined;
        },
        { timeoutMs: 120000, intervalMs: 1000, what: `${address} to equal the export` },
      ).catch(async (err: unknown) => {
        // show the difference, not just the timeout
        expect(await mirrorOf(accountId)).toEqual(await expectedOf(address));
        throw err;
      });
      expect(await mirrorOf(accountId)).toEqual(await expectedOf(address));
    }
    const convergedSeconds = (Date.now() - quiet) / 1000;

    // no duplicate rows: the primary key says so; and no duplicate subscriptions
    expect(await activeSubscriptions(product)).toHaveLength(3);

    // sockets: A saw A's mailboxes only, B saw B's only and none of A's
    const idsOf = (owner: 'A' | 'B') =>
      new Set([...accounts.values()].filter((a) => a.owner === owner).map((a) => a.accountId));
    const aIds = idsOf('A');
    const bIds = idsOf('B');
    for (const l of listeners.A) {
      const changed = l.events.filter((e) => e.name === 'mail.changed');
      expect(changed.length).toBeGreaterThan(0);
      for (const e of l.events) expect(aIds.has(e.event.accountId)).toBe(true);
      // both of A's mailboxes produced events on this instance
      expect(new Set(changed.map((e) => e.event.accountId))).toEqual(aIds);
    }
    for (const l of listeners.B) {
      expect(l.events.filter((e) => e.name === 'mail.changed').length).toBeGreaterThan(0);
      for (const e of l.events) {
        expect(bIds.has(e.event.accountId)).toBe(true);
        expect(aIds.has(e.event.accountId)).toBe(false);
      }
    }

    // per account, the seqs a socket received are gapless and each arrived once (a round's folders commit in
    // parallel, so events may arrive out of seq order: clients order them by seq, see docs/realtime.md)
    for (const l of [...listeners.A, ...listeners.B]) {
      const seqs = new Map<string, number[]>();
      for (const { event } of l.events) {
        if (event.type !== 'mail.changed') continue;
        seqs.set(event.accountId, [...(seqs.get(event.accountId) ?? []), ...event.changes.map((c) => c.seq)]);
      }
      for (const list of seqs.values()) {
        const sorted = [...list].sort((x, y) => x - y);
        expect(sorted).toEqual(sorted.map((_s, i) => sorted[0] + i));
      }
    }

    // notification-to-socket latency: from the webhook accepting a notification to the event on a socket
    const latencies = [...listeners.A, ...listeners.B]
      .flatMap((l) => l.events)
      .flatMap(({ event, at }) =>
        event.type === 'mail.changed' && event.notifiedAt ? [at - Date.parse(event.notifiedAt)] : [],
      )
      .sort((x, y) => x - y);
    expect(latencies.length).toBeGreaterThan(100);
    const figures = {
      changes: 2000,
      lostBurstChanges: 90,
      mailboxes: MAILBOXES.length,
      producers: 2,
      consumers: 2,
      activitySeconds: Number(activitySeconds.toFixed(1)),
      convergedAfterMissedSeconds: Number(convergedSeconds.toFixed(1)),
      events: latencies.length,
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1],
      },
      emulatorNotifications: {
        attempts: notifications.attempts,
        deliveredItems: notifications.deliveredItems,
        failed: notifications.failed,
        dropped: notifications.dropped,
      },
    };
    const out = path.resolve(__dirname, '../../bench/results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'live-mail-e2e.json'), `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(
      `\nlive mail e2e: ${figures.events} mail.changed events; notification-to-socket latency ` +
        `p50 ${figures.latencyMs.p50} ms, p95 ${figures.latencyMs.p95} ms, p99 ${figures.latencyMs.p99} ms; ` +
        `converged ${figures.convergedAfterMissedSeconds} s after the missed events\n`,
    );
  }, 400000);
});
