import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Logger, PARAMS_PROVIDER_TOKEN, PinoLogger, type Params } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import { createHttpLogger, type HttpLoggingOptions } from './http-logger';
import { createLogger, type LogSettings } from './logger';

/** the process's root pino logger */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** The HTTP request log middleware (main.ts mounts it first of all, and in the webhook's fast lane) */
export class HttpLogging {
  constructor(readonly middleware: ReturnType<typeof createHttpLogger>) {}
}

/**
 * Logging for an app: nestjs-pino's `Logger` (main.ts: `bufferLogs: true`, then `app.useLogger(app.get(Logger))`,
 * so every existing `new Logger(ctx).log(...)` writes through pino), one root pino logger, and the HTTP request
 * log as a middleware main.ts mounts itself, in front of every other one (nestjs-pino's own middleware would only
 * see the requests Nest's router reaches, not the ones refused earlier, nor the Graph webhook's fast lane).
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(settings: LogSettings & { http?: HttpLoggingOptions }): DynamicModule {
    const root = createLogger(settings);
    const params: Params = { pinoHttp: { logger: root } };
    return {
      module: LoggingModule,
      providers: [
        { provide: PARAMS_PROVIDER_TOKEN, useValue: params },
        { provide: ROOT_LOGGER, useValue: root satisfies Pino },
        { provide: HttpLogging, useValue: new HttpLogging(createHttpLogger(root, settings.http)) },
        PinoLogger,
        Logger,
      ],
      exports: [Logger, PinoLogger, ROOT_LOGGER, HttpLogging],
    };
  }
}

/**
 * An app's root module with logging added (main.ts only: an app module built elsewhere, a test's or a script's,
 * keeps Nest's own logger).
 */
export function withLogging(
  appModule: DynamicModule,
  settings: LogSettings & { http?: HttpLoggingOptions },
): DynamicModule {
  return { ...appModule, imports: [...(appModule.imports ?? []), LoggingModule.forRoot(settings)] };
}
