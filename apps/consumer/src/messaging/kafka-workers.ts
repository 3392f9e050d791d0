import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { KafkaWorkerGroup, type KafkaWorker } from '@email-core/kafka';

/**
 * The shutdown coordinator of the process's Kafka workers: every worker is registered here when it is built, and
 * all of them stop at once when the application closes (SIGTERM, SIGINT, `app.close()`).
 *
 * Nest runs `onModuleDestroy` for every module before any `beforeApplicationShutdown`, so the workers are already
 * stopping together when the per-module hooks (each consumer's own `worker.stop()`, now a no-op wait) run one
 * module after another. Stopped one by one, each waited for its fetch in progress while the others kept
 * consuming: a sync kept writing pages that its shutdown would abandon, and the exit took the sum of the waits.
 * In-flight handlers see their signal abort and leave their message uncommitted, to be redelivered.
 */
@Injectable()
export class KafkaWorkers implements OnModuleDestroy {
  private readonly logger = new Logger('KafkaWorkers');
  private readonly group = new KafkaWorkerGroup();

  add(worker: KafkaWorker): KafkaWorker {
    return this.group.add(worker);
  }

  async onModuleDestroy(): Promise<void> {
    const started = Date.now();
    this.logger.log(`stopping ${this.group.size} Kafka workers`);
    await this.group.stopAll();
    this.logger.log(`${this.group.size} Kafka workers stopped in ${Date.now() - started} ms`);
  }
}
