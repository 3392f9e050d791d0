import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadDevSecrets, loadEmulatorConfig, loadOrExit } from '@email-core/config';
import { AppLogger, HttpLogging, withLogging } from '@email-core/logging';
import { AppModule } from './app.module';
import { IdentitySettings } from './identity/identity-settings';
import { loadSubscriptionSettings } from './subscriptions/subscription-settings';
import { ensureCertificates, resolveCertDir } from '@email-core/certs';

async function bootstrap(): Promise<void> {
  // `npm run start:emulator` on its own: in development the demo app's secret comes from the same
  // generated, git-ignored .stack/dev-secrets.env that `npm start` uses, unless the environment sets one.
  if (!process.env.EMULATOR_DEMO_CLIENT_SECRET && (process.env.NODE_ENV ?? 'development') === 'development') {
    process.env.EMULATOR_DEMO_CLIENT_SECRET = loadDevSecrets().EMULATOR_DEMO_CLIENT_SECRET;
  }
  // every setting is checked before anything starts: a bad value exits 78 naming the variable
  const config = loadOrExit(() => {
    const c = loadEmulatorConfig();
    IdentitySettings.fromEnv();
    loadSubscriptionSettings(c.subscriptionMaxMinutes);
    return c;
  });
  // The emulator stands in for login.microsoftonline.com and graph.microsoft.com, so it speaks HTTPS only,
  // with a certificate from its own local CA; clients trust that CA through NODE_EXTRA_CA_CERTS.
  const tls = ensureCertificates({ certDir: resolveCertDir(config.certDir), hostnames: config.hostnames });
  const app = await NestFactory.create<NestExpressApplication>(
    withLogging(AppModule.forRoot(config), {
      app: 'outlook-emulator',
      level: config.logLevel,
      format: config.logFormat,
      // a request line per Graph call at debug only: a sync makes thousands
      http: { level: 'debug' },
    }),
    {
      bufferLogs: true,
      httpsOptions: { key: tls.key, cert: tls.cert },
      bodyParser: true,
      rawBody: false,
    },
  );
  // pino (LOG_FORMAT, LOG_LEVEL, redaction: docs/operations.md) behind every Nest Logger; the request log first
  app.useLogger(app.get(AppLogger));
  app.use(app.get(HttpLogging).middleware);
  // sendMail, drafts and attachments carry base64 content well beyond body-parser's 100 kB default; the limit
  // is well above Graph's 3 MB per inline attachment so that an oversized one reaches the handler and gets
  // Graph's own 413 ErrorRequestEntityTooLarge rather than the body parser's.
  app.useBodyParser('json', { limit: '50mb' });
  app.useBodyParser('urlencoded', { extended: false, limit: '1mb' });
  // the signals a supervisor stops it with; Nest's default list also takes SIGUSR2 (and SIGHUP, SIGQUIT...) as a
  // shutdown, which ended the emulator when bench:scale toggled its CPU profiler with SIGUSR2
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(config.port, config.host);
  new Logger('outlook-emulator').log(
    `emulator listening on https://localhost:${config.port} (CA: ${tls.caPath})`,
  );
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(
    `outlook-emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
