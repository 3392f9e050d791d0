import type { Logger } from '@nestjs/common';

/** the whole shutdown's limit: past it the process exits anyway (an orchestrator would SIGKILL it) */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * An app's own SIGTERM / SIGINT handling (instead of Nest's `enableShutdownHooks`): on the first signal it runs
 * `beforeClose` (say, stop taking new work), then closes the app, whose lifecycle hooks stop everything in order;
 * exits 0 when that is done, 1 when it fails or takes longer than `timeoutMs`. Later signals are ignored.
 */
export function exitOnSignals(
  app: { close(): Promise<void> },
  opts: { name: string; logger: Logger; beforeClose?: () => void; timeoutMs?: number },
): void {
  const timeoutMs = opts.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    opts.logger.log(`${signal}: shutting down`);
    opts.beforeClose?.();
    setTimeout(() => {
      process.stderr.write(`${opts.name}: shutdown took over ${timeoutMs} ms; exiting\n`);
      process.exit(1);
    }, timeoutMs).unref();
    app.close().then(
      () => {
        opts.logger.log(`shut down in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(
          `${opts.name}: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
