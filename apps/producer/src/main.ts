import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadOrExit, loadProducerConfig } from '@email-core/config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadProducerConfig());
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: [config.logLevel, 'error', 'warn', 'fatal'],
  });
  app.setGlobalPrefix('api/v1', { exclude: ['health', 'health/live'] });
  app.enableCors({ origin: config.corsOrigins, credentials: true });
  app.enableShutdownHooks();
  const dashboard = path.resolve(config.dashboardDir);
  if (existsSync(path.join(dashboard, 'index.html'))) app.useStaticAssets(dashboard, { index: 'index.html' });
  else new Logger('producer').warn(`no dashboard build at ${dashboard}; run \`npm run build:dashboard\``);
  await app.listen(config.port, config.host);
  new Logger('producer').log(`API listening on http://${config.host}:${config.port} (health: /health)`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`producer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
