import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadOrExit, loadProducerConfig } from '@email-core/config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadProducerConfig());
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: [config.logLevel, 'error', 'warn', 'fatal'],
  });
  app.setGlobalPrefix('api/v1', { exclude: ['health', 'health/live'] });
  app.enableCors({ origin: config.corsOrigins, credentials: true });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  new Logger('producer').log(`API listening on http://${config.host}:${config.port} (health: /health)`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`producer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
