import { Injectable } from '@nestjs/common';

/**
 * In-process wake-up for the outbox relay: a use case that has just committed outbox rows calls `notify()`, so
 * the rows leave at once instead of at the next poll. Rows committed by other instances are found by polling.
 */
@Injectable()
export class OutboxSignal {
  private wake: (() => void) | undefined;
  private pending = false;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Resolves after `ms`, or earlier on `notify()` (also one that came since the last wait). */
  async wait(ms: number): Promise<void> {
    if (!this.pending) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    this.pending = false;
  }
}
