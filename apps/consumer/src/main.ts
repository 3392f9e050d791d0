import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConsumerConfig, loadOrExit } from '@email-core/config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadConsumerConfig());
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: [config.logLevel, 'error', 'warn', 'fatal'],
  });
  // The workers' HTTP surface is only their health check; their real work arrives over Kafka.
  await app.listen(config.port, config.host);
  const logger = new Logger('consumer');
  logger.log(`worker health on http://${config.host}:${config.port}/health`);

  // Graceful shutdown (SIGTERM, SIGINT): close the app, whose KafkaWorkers stop every Kafka worker at once (each
  // handler in flight gives up at its next checkpoint, its message uncommitted for redelivery; a page being
  // written commits first), then the periodic jobs, the publisher, Redis and Postgres; then exit.
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    logger.log(`${signal}: shutting down`);
    setTimeout(() => {
      process.stderr.write(`consumer: shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(
      () => {
        logger.log(`shut down in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(
          `consumer: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** the whole shutdown's limit: past it the process exits anyway (an orchestrator would SIGKILL it) */
const SHUTDOWN_TIMEOUT_MS = 25_000;

bootstrap().catch((err: unknown) => {
  process.stderr.write(`consumer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
