import { formatLsn, parseLsn } from './lsn';
import { ReplicaLagTracker } from './replica-lag';

describe('parseLsn / formatLsn', () => {
  it('reads pg_lsn text as bytes and writes it back', () => {
    expect(parseLsn('0/0')).toBe(0);
    expect(parseLsn('0/3000000')).toBe(0x3000000);
    expect(parseLsn('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
  });

  it('refuses what is not a WAL position', () => {
    expect(() => parseLsn('16-B374')).toThrow('not a WAL position');
    expect(() => parseLsn('')).toThrow('not a WAL position');
  });
});

describe('ReplicaLagTracker', () => {
  it('an idle pair (the replica at the newest sample) lags 0, however old the sample', () => {
    const t = new ReplicaLagTracker();
    t.recordPrimary(1000, 500);
    t.recordPrimary(1200, 500);
    expect(t.lagMs(500, 60_000)).toBe(0);
  });

  it('a replica behind is as far behind as the oldest sample it has not reached', () => {
    const t = new ReplicaLagTracker();
    t.recordPrimary(1000, 100);
    t.recordPrimary(1200, 200);
    t.recordPrimary(1400, 300);
    expect(t.lagMs(300, 1500)).toBe(0);
    expect(t.lagMs(250, 1500)).toBe(100); // lacks what the primary had at 1400
    expect(t.lagMs(150, 1500)).toBe(300); // lacks what it had at 1200
    expect(t.lagMs(50, 1500)).toBe(500); // has reached no sample: as old as the oldest
  });

  it('a paused replica falls behind by the clock while the primary writes', () => {
    const t = new ReplicaLagTracker();
    for (let at = 0; at <= 5000; at += 200) t.recordPrimary(at, at + 1);
    expect(t.lagMs(1001, 5000)).toBe(5000 - 1200);
  });

  it('drops samples older than keepMs but keeps one reference point', () => {
    const t = new ReplicaLagTracker(1000);
    for (let at = 0; at <= 10_000; at += 100) t.recordPrimary(at, at + 1);
    expect(t.lagMs(0, 10_000)).toBeGreaterThanOrEqual(1000);
    expect(t.lagMs(0, 10_000)).toBeLessThanOrEqual(1100);
  });
});
