import type { DataSource } from 'typeorm';
import type { ReadReplica, ReadReplicaStatus } from '@email-core/database';
import { GetDatabaseOverviewQueryHandler, PRIMARY_TIMEOUT_MS } from './database-overview.query-handler';

const status = (over: Partial<ReadReplicaStatus> = {}): ReadReplicaStatus => ({
  configured: true,
  serving: true,
  reason: null,
  lagMs: 12,
  lagBytes: 4096,
  checkedAt: '2026-12-05T12:00:00.000Z',
  reads: { replica: 40, primary: 7, fallbacks: 1 },
  ...over,
});

function setup(
  opts: {
    replica?: ReadReplicaStatus;
    initialized?: boolean;
    query?: () => Promise<unknown>;
  } = {},
) {
  const query = jest.fn(opts.query ?? (() => Promise.resolve([{ recovery: false, lsn: '0/3000148' }])));
  const primary = { isInitialized: opts.initialized ?? true, query };
  const readReplica = { status: jest.fn(() => opts.replica ?? status()) };
  const handler = new GetDatabaseOverviewQueryHandler(
    primary as unknown as DataSource,
    readReplica as unknown as ReadReplica,
  );
  return { handler, query, readReplica };
}

describe('GetDatabaseOverviewQueryHandler (GET /ops/database)', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a serving replica with its lag and reads, and the primary’s WAL position from one query', async () => {
    const { handler, query } = setup();
    const before = Date.now();
    const o = await handler.execute();
    expect(query).toHaveBeenCalledTimes(1);
    expect(query.mock.calls[0]).toEqual([
      expect.stringMatching(/pg_is_in_recovery\(\).*pg_current_wal_lsn\(\)/),
    ]);
    expect(o.primary).toEqual({
      reachable: true,
      inRecovery: false,
      walLsn: '0/3000148',
      latencyMs: expect.any(Number) as unknown,
      error: null,
    });
    expect(o.replica).toEqual({
      state: 'serving',
      configured: true,
      serving: true,
      reason: null,
      lagMs: 12,
      lagBytes: 4096,
      checkedAt: '2026-12-05T12:00:00.000Z',
      reads: { replica: 40, primary: 7, fallbacks: 1 },
    });
    expect(Date.parse(o.fetchedAt)).toBeGreaterThanOrEqual(before);
  });

  it('a configured replica that serves no reads is degraded, with the reason', async () => {
    const reason = 'it lags 5000 ms behind the primary (READ_REPLICA_MAX_LAG_MS 2000)';
    const { handler } = setup({
      replica: status({ serving: false, reason, lagMs: 5000, lagBytes: 1 << 20 }),
    });
    expect((await handler.execute()).replica).toMatchObject({
      state: 'degraded',
      serving: false,
      reason,
      lagMs: 5000,
      lagBytes: 1048576,
    });
  });

  it('no replica configured is off; lag and probe time are null, every read counted on the primary', async () => {
    const { handler } = setup({
      replica: status({
        configured: false,
        serving: false,
        reason: 'no replica configured (DATABASE_READ_URL unset)',
        lagMs: null,
        lagBytes: null,
        checkedAt: null,
        reads: { replica: 0, primary: 9, fallbacks: 0 },
      }),
    });
    expect((await handler.execute()).replica).toEqual({
      state: 'off',
      configured: false,
      serving: false,
      reason: 'no replica configured (DATABASE_READ_URL unset)',
      lagMs: null,
      lagBytes: null,
      checkedAt: null,
      reads: { replica: 0, primary: 9, fallbacks: 0 },
    });
  });

  it('a primary that is not connected or fails the query is reported unreachable, and the replica still shown', async () => {
    const notYet = setup({ initialized: false });
    const a = await notYet.handler.execute();
    expect(notYet.query).not.toHaveBeenCalled();
    expect(a.primary).toEqual({
      reachable: false,
      inRecovery: null,
      walLsn: null,
      latencyMs: null,
      error: 'not connected yet',
    });
    expect(a.replica.state).toBe('serving');

    const failing = setup({ query: () => Promise.reject(new Error('Connection terminated unexpectedly')) });
    expect((await failing.handler.execute()).primary).toMatchObject({
      reachable: false,
      error: 'Connection terminated unexpectedly',
    });
  });

  it('a primary that does not answer in time is reported after the timeout; the slow query is not asked again meanwhile', async () => {
    jest.useFakeTimers();
    const { handler, query } = setup({ query: () => new Promise(() => undefined) });
    const first = handler.execute();
    const second = handler.execute();
    jest.advanceTimersByTime(PRIMARY_TIMEOUT_MS);
    const [a, b] = await Promise.all([first, second]);
    for (const o of [a, b]) {
      expect(o.primary).toMatchObject({
        reachable: false,
        error: `the primary did not answer within ${PRIMARY_TIMEOUT_MS} ms`,
      });
    }
    expect(query).toHaveBeenCalledTimes(1);
  });

  it('a standby answering as the primary shows in recovery, without a WAL position', async () => {
    const { handler } = setup({ query: () => Promise.resolve([{ recovery: true, lsn: null }]) });
    expect((await handler.execute()).primary).toMatchObject({
      reachable: true,
      inRecovery: true,
      walLsn: null,
    });
  });
});
