import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { applyHeapConfig, loadConsumerConfig, loadHeapConfig, loadOrExit } from '@email-core/config';
import { exitOnSignals } from '@email-core/health';
import { AppLogger, HttpLogging, withLogging } from '@email-core/logging';
import { AppModule } from './app.module';

/** HEAP_GROWING_PERCENT's default for the consumer: its peak stays near 1.5x its live set (docs/performance.md) */
const CONSUMER_HEAP_GROWING_PERCENT = 50;

async function bootstrap(): Promise<void> {
  applyHeapConfig(loadOrExit(() => loadHeapConfig('consumer', CONSUMER_HEAP_GROWING_PERCENT)));
  const config = loadOrExit(() => loadConsumerConfig());
  const app = await NestFactory.create(
    withLogging(AppModule.forRoot(config), {
      app: 'consumer',
      level: config.logLevel,
      format: config.logFormat,
    }),
    { bufferLogs: true },
  );
  // pino (LOG_FORMAT, LOG_LEVEL, redaction: docs/operations.md) behind every Nest Logger; the request log first
  app.useLogger(app.get(AppLogger));
  app.use(app.get(HttpLogging).middleware);
  // The workers' HTTP surface is only their health check; their real work arrives over Kafka.
  await app.listen(config.port, config.host);
  const logger = new Logger('consumer');
  logger.log(`worker health on http://${config.host}:${config.port}/health`);

  // Graceful shutdown (SIGTERM, SIGINT): close the app, whose KafkaWorkers stop every Kafka worker at once (each
  // handler in flight gives up at its next checkpoint, its message uncommitted for redelivery; a page being
  // written commits first), then the periodic jobs, the publisher, Redis and Postgres; then exit.
  exitOnSignals(app, { name: 'consumer', logger });
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`consumer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
