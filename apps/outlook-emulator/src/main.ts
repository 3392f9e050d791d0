import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadEmulatorConfig, loadOrExit } from '@email-core/config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadEmulatorConfig());
  const app = await NestFactory.create(AppModule, { logger: [config.logLevel, 'error', 'warn', 'fatal'] });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  new Logger('outlook-emulator').log(
    `emulator listening on http://${config.host}:${config.port} (health: /_emulator/health); HTTPS, identity and Graph arrive with issue 3`,
  );
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(
    `outlook-emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
