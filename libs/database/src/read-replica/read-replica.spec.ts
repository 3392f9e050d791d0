import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { formatLsn } from './lsn';
import { isReplicaFailure, ReadReplica } from './read-replica';

/** A DataSource whose `query` answers the probes from mutable state, and counts reads by name. */
function fakeServer(state: { lsn: number; recovery: boolean; down?: Error }) {
  const reads: string[] = [];
  const db = {
    isInitialized: true,
    initialize: (): Promise<unknown> => Promise.resolve(db),
    destroy: (): Promise<void> => Promise.resolve(),
    query: (sql: string): Promise<unknown[]> => {
      if (state.down) return Promise.reject(state.down);
      if (sql.includes('pg_current_wal_lsn')) return Promise.resolve([{ lsn: formatLsn(state.lsn) }]);
      if (sql.includes('pg_is_in_recovery'))
        return Promise.resolve([{ recovery: state.recovery, replay: formatLsn(state.lsn) }]);
      reads.push(sql);
      return Promise.resolve([{ answer: sql }]);
    },
  };
  return { db: db as unknown as DataSource, reads };
}

describe('ReadReplica', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(true);
  });

  function pair() {
    const primaryState = { lsn: 1000, recovery: false };
    const replicaState: { lsn: number; recovery: boolean; down?: Error } = { lsn: 1000, recovery: true };
    const primary = fakeServer(primaryState);
    const replica = fakeServer(replicaState);
    const side = new ReadReplica(primary.db, replica.db, { maxLagMs: 500, probeEveryMs: 50 });
    const read = (wal: number | null | undefined) =>
      side.read(wal, (db) => db.query<Array<{ answer: string }>>(db === primary.db ? 'primary' : 'replica'));
    return { side, primaryState, replicaState, primary, replica, read };
  }

  it('without a replica, every read goes to the primary', async () => {
    const primary = fakeServer({ lsn: 1, recovery: false });
    const side = new ReadReplica(primary.db, undefined);
    expect(side.route(null)).toBe('primary');
    await side.read(null, (db) => db.query('q'));
    expect(primary.reads).toEqual(['q']);
    expect(side.status()).toMatchObject({ configured: false, serving: false });
  });

  it('serves nothing before the first probe, then reads the replica when it has the account watermark', async () => {
    const p = pair();
    expect(p.side.route(null)).toBe('primary');
    await p.side.probeNow();
    expect(p.side.status()).toMatchObject({ configured: true, serving: true, lagMs: 0, lagBytes: 0 });
    expect(p.side.route(null)).toBe('replica');
    expect(p.side.route(1000)).toBe('replica');
    expect(p.side.route(1001)).toBe('primary'); // a write the replica has not replayed
    expect(p.side.route(undefined)).toBe('primary'); // watermark unknown (Redis down)
    await p.read(900);
    await p.read(2000);
    expect(p.replica.reads).toEqual(['replica']);
    expect(p.primary.reads).toEqual(['primary']);
  });

  it('a replica whose replay is paused serves the accounts it has, and none once it lags beyond the limit', async () => {
    const p = pair();
    await p.side.probeNow();
    p.primaryState.lsn = 5000; // the primary writes; the replica replays nothing
    await p.side.probeNow();
    expect(p.side.route(1000)).toBe('replica');
    expect(p.side.route(5000)).toBe('primary');
    await new Promise((r) => setTimeout(r, 600));
    p.primaryState.lsn = 6000;
    await p.side.probeNow();
    expect(p.side.status()).toMatchObject({ serving: false, lagBytes: 5000 });
    expect(p.side.status().reason).toMatch(/lags \d+ ms/);
    expect(p.side.route(null)).toBe('primary');
    p.replicaState.lsn = 6000; // resumed and caught up
    await p.side.probeNow();
    expect(p.side.route(6000)).toBe('replica');
  });

  it('a read that fails on the replica for a replica reason runs on the primary and takes the replica out', async () => {
    const p = pair();
    await p.side.probeNow();
    p.replicaState.down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5434'), {
      code: 'ECONNREFUSED',
    });
    expect(await p.read(null)).toEqual([{ answer: 'primary' }]);
    expect(p.side.route(null)).toBe('primary');
    expect(p.side.status().reads).toEqual({ replica: 0, primary: 1, fallbacks: 1 });
    await p.side.probeNow(); // still down
    expect(p.side.status().reason).toMatch(/does not answer/);
    delete p.replicaState.down;
    await p.side.probeNow();
    expect(p.side.route(null)).toBe('replica');
  });

  it('a promoted replica (not in recovery) serves no reads', async () => {
    const p = pair();
    p.replicaState.recovery = false;
    await p.side.probeNow();
    expect(p.side.route(null)).toBe('primary');
    expect(p.side.status().reason).toMatch(/not in recovery/);
  });

  it('tells replica failures from query errors', () => {
    expect(isReplicaFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isReplicaFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isReplicaFailure(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      true,
    );
    expect(
      isReplicaFailure({
        message: 'q failed',
        driverError: { code: '40001', message: 'canceling statement due to conflict with recovery' },
      }),
    ).toBe(true);
    expect(isReplicaFailure(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isReplicaFailure(Object.assign(new Error('serialization'), { code: '40001' }))).toBe(false);
  });
});
