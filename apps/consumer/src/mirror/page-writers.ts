/**
 * Pages of one folder written by up to `limit` transactions at once, committed in order: page k's write runs its
 * statements, then waits (`afterPrevious`) until page k-1 committed and finished its after-commit steps, so the
 * stored cursor never runs ahead of an uncommitted page. A page listing a message that a page still in flight
 * lists waits for that page first (two transactions never wait on each other's rows). After a failure every
 * later write fails too, and `throwIfFailed`/`drain` rethrow it.
 */
export class PageWriters {
  private previous: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<Promise<void>, ReadonlySet<string>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** more than one page may be in flight */
  get parallel(): boolean {
    return this.limit > 1;
  }

  async write(ids: string[], body: (afterPrevious: () => Promise<void>) => Promise<void>): Promise<void> {
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight.keys());
    this.throwIfFailed();
    const overlapping = [...this.inFlight].filter(([, held]) => ids.some((id) => held.has(id)));
    for (const [write] of overlapping) await write;
    this.throwIfFailed();
    const before = this.previous;
    const write = body(() => before).catch((err: unknown) => {
      this.failure ??= { err };
      throw err;
    });
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    this.previous = write;
    this.inFlight.set(settled, new Set(ids));
    void settled.then(() => this.inFlight.delete(settled));
    // one writer: the page is written before the caller goes on (it may read what the page wrote)
    if (this.limit === 1) await this.drain();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.err;
  }

  /** waits for every page in flight, whatever its outcome (a folder that stops writes nothing after it stopped) */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight.keys());
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight.keys());
    this.throwIfFailed();
  }
}
