import { describe, expect, it } from '@jest/globals';
import {
  formatBytes,
  formatLagMs,
  primaryState,
  REPLICA_STATE,
  replicaLagText,
  replicaShare,
} from './database-view';

describe('the Ops page’s Database section (GET /ops/database)', () => {
  it('shows the replica’s state the way /health names it', () => {
    expect(REPLICA_STATE.serving).toEqual({ label: 'Serving', tone: 'ok' });
    expect(REPLICA_STATE.degraded).toEqual({ label: 'Degraded', tone: 'warn' });
    expect(REPLICA_STATE.off).toEqual({ label: 'Off', tone: 'off' });
  });

  it('calls the primary up, unreachable, or in recovery', () => {
    const up = { reachable: true, inRecovery: false, walLsn: '0/3000148', latencyMs: 2, error: null };
    expect(primaryState(up).label).toBe('Up');
    expect(primaryState({ ...up, inRecovery: true, walLsn: null }).tone).toBe('warn');
    expect(
      primaryState({ reachable: false, inRecovery: null, walLsn: null, latencyMs: null, error: 'x' }),
    ).toEqual({ label: 'Unreachable', tone: 'bad' });
  });

  it('writes WAL bytes in binary units and the lag in ms, then seconds', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4096)).toBe('4 KiB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GiB');
    expect(formatLagMs(0)).toBe('0 ms');
    expect(formatLagMs(180.4)).toBe('180 ms');
    expect(formatLagMs(2500)).toBe('2.5 s');
    expect(formatLagMs(95_000)).toBe('95 s');
  });

  it('puts the lag in one phrase, a dash before the first probe', () => {
    expect(replicaLagText({ lagMs: 12, lagBytes: 4096 })).toBe('12 ms · 4 KiB');
    expect(replicaLagText({ lagMs: 0, lagBytes: null })).toBe('0 ms');
    expect(replicaLagText({ lagMs: null, lagBytes: null })).toBe('—');
  });

  it('gives the share of reads the replica served, none before any read', () => {
    expect(replicaShare({ replica: 3, primary: 1, fallbacks: 0 })).toBe(75);
    expect(replicaShare({ replica: 0, primary: 0, fallbacks: 0 })).toBeNull();
  });
});
