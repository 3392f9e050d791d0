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
  app.enableShutdownHooks();
  // The workers' HTTP surface is only their health check; their real work arrives over Kafka.
  await app.listen(config.port, config.host);
  new Logger('consumer').log(`worker health on http://${config.host}:${config.port}/health`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`consumer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
