/** One probe of the primary: at `at` (ms), its WAL had reached `lsn`. */
interface PrimarySample {
  at: number;
  lsn: number;
}

/**
 * How far behind the primary a replica's replay is, in time, measured without trusting either server's clock or
 * `pg_last_xact_replay_timestamp()` (which keeps growing on an idle primary): the primary's WAL position is
 * sampled at every probe. A replica that has replayed up to the newest sample's position is current (lag 0, within
 * one probe interval); one that has not reached a sample lacks something the primary had at that sample's time, so
 * it is at least `now - that time` behind (the first sample it has not reached). An idle pair shows 0, a paused or
 * cut-off replica a lag that grows with the clock.
 */
export class ReplicaLagTracker {
  private readonly samples: PrimarySample[] = [];

  /** @param keepMs samples older than this are dropped (one older sample is kept as the reference point) */
  constructor(private readonly keepMs = 120_000) {}

  recordPrimary(at: number, lsn: number): void {
    const last = this.samples[this.samples.length - 1];
    // a position seen before keeps its first (oldest) time: the replica reaching it proves the older time
    if (last && lsn <= last.lsn) {
      this.prune(at);
      return;
    }
    this.samples.push({ at, lsn });
    this.prune(at);
  }

  /**
   * Lag in ms of a replica that has replayed up to `replayLsn`, at `now`: 0 when it has reached the newest sample,
   * else `now` minus the time of the oldest sample it has not reached.
   */
  lagMs(replayLsn: number, now: number): number {
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if (this.samples[i].lsn <= replayLsn) {
        if (i === this.samples.length - 1) return 0;
        return Math.max(0, now - this.samples[i + 1].at);
      }
    }
    const oldest = this.samples[0];
    return oldest ? Math.max(0, now - oldest.at) : 0;
  }

  private prune(now: number): void {
    // keep at least one sample older than keepMs so a far-behind replica still has a reference point
    while (this.samples.length > 1 && now - this.samples[1].at > this.keepMs) this.samples.shift();
  }
}
