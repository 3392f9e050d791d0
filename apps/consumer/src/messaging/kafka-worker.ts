import type { Logger } from '@nestjs/common';
import type { RunningConsumer } from '@email-core/kafka';

export interface KafkaWorkerOptions {
  name: string;
  logger: Logger;
  /** true once the worker may start (the database migrated, the topics exist) */
  ready: () => Promise<boolean>;
  start: () => Promise<RunningConsumer>;
  retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Runs a Kafka consumer in the background for the life of the process: it starts once its dependencies are
 * ready, retries while Kafka is unreachable, and starts again after a crash kafkajs does not recover from
 * itself. The process boots and answers its health check meanwhile, like the database connector does.
 */
export class KafkaWorker {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: KafkaWorkerOptions) {}

  begin(): void {
    this.loop ??= this.runLoop();
  }

  private async runLoop(): Promise<void> {
    const delay = this.opts.retryDelayMs ?? 2000;
    // sleeps are short and bounded, so a stop is noticed within a second or two
    while (!this.stopped) {
      try {
        if (!(await this.opts.ready())) {
          await sleep(500);
          continue;
        }
        const running = await this.opts.start();
        if (this.stopped) {
          await running.stop();
          return;
        }
        this.opts.logger.log(`${this.opts.name} consuming`);
        // until kafkajs gives up on it (a crash it will not restart from) or the process stops
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          running.consumer.on(running.consumer.events.CRASH, (e) => {
            if (!e.payload.restart) resolve();
          });
        });
        this.wake = undefined;
        await running.stop().catch(() => undefined);
        if (!this.stopped) this.opts.logger.warn(`${this.opts.name} crashed; starting again`);
      } catch (err) {
        if (this.stopped) return;
        this.opts.logger.warn(`${this.opts.name} not started: ${(err as Error).message}; retrying`);
      }
      if (!this.stopped) await sleep(delay);
    }
  }

  /** Stops consuming; an in-flight message is abandoned uncommitted (its handler sees its signal abort). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    // A start still waiting for an unreachable broker is not waited for: the loop stops it when it returns.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, 15000)))]);
    clearTimeout(timer);
  }
}
