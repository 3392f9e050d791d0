import type { RunningConsumer } from './consumer-runner';

/** What the worker logs through (a Nest `Logger` fits). */
export interface KafkaWorkerLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface KafkaWorkerOptions {
  name: string;
  logger: KafkaWorkerLogger;
  /** true once the worker may start (e.g. the database migrated, the topics exist) */
  ready: () => Promise<boolean>;
  start: () => Promise<RunningConsumer>;
  retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Runs a Kafka consumer in the background for the life of the process: it starts once its dependencies are
 * ready, retries while Kafka is unreachable, and starts again after a crash kafkajs does not recover from
 * itself. The process boots and serves (and answers its health check) meanwhile. Both apps run their background
 * consumers through it.
 */
export class KafkaWorker {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failures = 0;

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
        this.failures = 0;
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
        this.failures += 1;
        // once per outage, then every 10th attempt, so a long Kafka outage does not flood the log
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.opts.logger.warn(
            `${this.opts.name} not started (attempt ${this.failures}): ${(err as Error).message}; retrying`,
          );
        }
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

/**
 * Every background worker of a process, stopped together. Each worker's stop waits for its consumer's fetch in
 * progress (up to kafkajs' `maxWaitTimeInMs`) and its handler's give-up; stopped one after another (as Nest's
 * shutdown hooks call them, module by module) those waits add up, and a worker still consuming keeps doing work
 * that will be thrown away. `stopAll` asks every worker at once, so a shutdown takes as long as the slowest one.
 */
export class KafkaWorkerGroup {
  private readonly workers = new Set<KafkaWorker>();
  private stopping: Promise<void> | undefined;

  add(worker: KafkaWorker): KafkaWorker {
    this.workers.add(worker);
    return worker;
  }

  get size(): number {
    return this.workers.size;
  }

  /** Stops every worker in parallel; a second call waits for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= Promise.all([...this.workers].map((w) => w.stop())).then(() => undefined);
    return this.stopping;
  }
}
