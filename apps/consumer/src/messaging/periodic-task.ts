import { runWithCorrelation } from '@email-core/logging';

/**
 * Runs `run` every `intervalMs` (counted from the end of the previous run, so runs never overlap) on an unref'd
 * timer, until `stop()`, which waits for a run in progress. `run` reports its own failures; one that throws
 * anyway is swallowed so the schedule goes on.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(firstDelayMs = 0): void {
    this.schedule(firstDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // each run is work of its own: its log lines and the messages it publishes share a fresh correlation id
      this.running = runWithCorrelation(undefined, () => this.run())
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
