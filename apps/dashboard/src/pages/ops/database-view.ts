import type { DatabasePrimary, DatabaseReplica } from '@/hooks/use-ops';

export type Tone = 'ok' | 'warn' | 'bad' | 'off';

/** The replica's state as `/health` reports it too: serving, degraded (with its reason) or off. */
export const REPLICA_STATE: Record<DatabaseReplica['state'], { label: string; tone: Tone }> = {
  serving: { label: 'Serving', tone: 'ok' },
  degraded: { label: 'Degraded', tone: 'warn' },
  off: { label: 'Off', tone: 'off' },
};

/** The primary: up, unreachable, or (after a failover gone wrong) a server in recovery. */
export function primaryState(p: DatabasePrimary): { label: string; tone: Tone } {
  if (!p.reachable) return { label: 'Unreachable', tone: 'bad' };
  if (p.inRecovery) return { label: 'In recovery', tone: 'warn' };
  return { label: 'Up', tone: 'ok' };
}

const bytesFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `0 B`, `512 B`, `4 KiB`, `1.5 MiB`: WAL bytes in the largest binary unit that keeps the number at least 1. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytesFormat.format(value)} ${BYTE_UNITS[unit]}`;
}

const secondsFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** `0 ms`, `180 ms`, `2.5 s`, `95 s`: a replication lag. */
export function formatLagMs(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${secondsFormat.format(ms / 1000)} s`;
}

/** The replica's lag in one phrase for the summary and the table: `12 ms · 4 KiB`, `—` before the first probe. */
export function replicaLagText(r: Pick<DatabaseReplica, 'lagMs' | 'lagBytes'>): string {
  const parts = [
    r.lagMs === null ? null : formatLagMs(r.lagMs),
    r.lagBytes === null ? null : formatBytes(r.lagBytes),
  ].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' · ') : '—';
}

/** Share of the query side's reads the replica served, in whole percent; null before any read. */
export function replicaShare(reads: DatabaseReplica['reads']): number | null {
  const total = reads.replica + reads.primary;
  return total === 0 ? null : Math.round((reads.replica / total) * 100);
}
