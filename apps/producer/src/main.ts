import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { RequestHandler } from 'express';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { loadOrExit, loadProducerConfig } from '@email-core/config';
import { exitOnSignals } from '@email-core/health';
import { AppLogger, HttpLogging, withLogging } from '@email-core/logging';
import { AppModule } from './app.module';
import { RateLimiter } from './auth/rate-limit/rate-limiter';
import { GRAPH_WEBHOOK_ROUTES, graphWebhookBody } from './graph-webhook/graph-webhook-body';
import { installGraphWebhookFastLane, mountedCors } from './graph-webhook/graph-webhook-fast-lane';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { applyApiPrefix, createApiDocument } from './http/api-document';
import { StrictInputsGuard } from './http/strict-inputs.guard';
import { httpMetrics } from './metrics/http-metrics';
import { ProducerMetrics } from './metrics/producer-metrics';
import { mountAuthenticatedBodies } from './security/authenticated-bodies';
import { refuseOversizedBody } from './security/before-body';
import { bodyParseErrors } from './security/body-errors';
import { ipRateLimit } from './security/ip-rate-limit';
import { rejectNul } from './security/reject-nul';
import { securityHeaders } from './security/security-headers';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadProducerConfig());
  const app = await NestFactory.create<NestExpressApplication>(
    withLogging(AppModule.forRoot(config), {
      app: 'producer',
      level: config.logLevel,
      format: config.logFormat,
    }),
    { bufferLogs: true },
  );
  // pino (LOG_FORMAT, LOG_LEVEL, redaction: docs/operations.md) behind every Nest Logger
  app.useLogger(app.get(AppLogger));
  // first of all: the request log, and the request id (X-Request-Id) every line of the request carries
  const requestLog = app.get(HttpLogging).middleware as RequestHandler;
  app.use(requestLog);
  applyApiPrefix(app);
  // first of all: every request's duration, by route pattern and status (GET /metrics), refusals included
  const requestMetrics = httpMetrics(app.get(ProducerMetrics), {
    exactRoutes: GRAPH_WEBHOOK_ROUTES.map((route) => `/api/v1/${route}`),
  }) as RequestHandler;
  app.use(requestMetrics);
  // Once shutting down, every answer closes its connection, so a client (or load balancer) holding a keep-alive
  // connection sends its next request to another instance instead of this one.
  let draining = false;
  const closeWhenDraining = (
    _req: unknown,
    res: { setHeader(name: string, value: string): void },
    next: () => void,
  ): void => {
    if (draining) res.setHeader('connection', 'close');
    next();
  };
  app.use(closeWhenDraining);
  // Security headers (helmet, with the dashboard's CSP; docs/security.md) on every response, errors included.
  app.disable('x-powered-by');
  // TRUST_PROXY (Express's own semantics; false by default, so X-Forwarded-For is ignored and cannot be spoofed):
  // behind ngrok or a load balancer, each client's own address then feeds req.ip and every per-IP limit
  app.set('trust proxy', config.trustProxy);
  const headers = securityHeaders(config.publicBaseUrl);
  app.use(headers);
  const limiter = app.get(RateLimiter);
  // Per source IP, before the body is read; generous (Graph delivers in bursts), and a Redis outage lets
  // notifications through rather than lose them.
  const webhookRateLimit = ipRateLimit(limiter, {
    scope: 'webhook-ip',
    rule: { limit: config.webhook.ratePerMinute, windowMs: 60_000 },
    methods: ['POST'],
    failOpen: true,
  });
  app.use(
    GRAPH_WEBHOOK_ROUTES.map((route) => `/api/v1/${route}`),
    webhookRateLimit,
  );
  // Before Nest's own body parsers (registered at listen): the Graph webhook reads its bodies itself, with its
  // own size limit and whatever the Content-Type; every other route keeps Nest's JSON parsing unchanged.
  const webhookBody = graphWebhookBody(config.webhook.maxBodyBytes);
  app.use(
    GRAPH_WEBHOOK_ROUTES.map((route) => `/api/v1/${route}`),
    webhookBody,
  );
  // the request id is readable by an allowed origin's script, so a user can quote it (docs/operations.md)
  app.enableCors({ origin: config.corsOrigins, credentials: true, exposedHeaders: ['X-Request-Id'] });
  app.use(cookieParser());
  // sign-up and sign-in have their own limits (AuthThrottle); a refresh is limited per address here
  app.use(
    '/api/v1/auth/refresh',
    ipRateLimit(limiter, {
      scope: 'refresh-ip',
      rule: { limit: config.limits.refreshPerMinute, windowMs: 60_000 },
      methods: ['POST'],
      failOpen: false,
    }),
  );
  // `POST /commands` (4 MiB of JSON) and `POST /uploads` (3 MB attachments), and the resync: a per-IP limit, the
  // bearer token and a per-user limit, all before a byte of the body is read; then each reads its own body
  // (after CORS, so a browser can read the refusals). No anonymous caller gets past JSON_BODY_LIMIT_BYTES.
  mountAuthenticatedBodies(app, config);
  // every other route: a body over the global limit is refused (413) and its connection closed, never drained
  app.use(refuseOversizedBody(config.limits.jsonBodyBytes));
  // every other route: JSON (and form) bodies up to JSON_BODY_LIMIT_BYTES, instead of Nest's default parsers
  app.useBodyParser('json', { limit: config.limits.jsonBodyBytes });
  app.useBodyParser('urlencoded', { limit: config.limits.jsonBodyBytes, extended: false });
  app.use(bodyParseErrors);
  app.use(rejectNul);
  app.useGlobalFilters(new ApiExceptionFilter());
  // unknown query parameters and body fields are refused on every route, not ignored
  app.useGlobalGuards(new StrictInputsGuard());
  const dashboard = path.resolve(config.dashboardDir);
  if (existsSync(path.join(dashboard, 'index.html'))) app.useStaticAssets(dashboard, { index: 'index.html' });
  else new Logger('producer').warn(`no dashboard build at ${dashboard}; run \`npm run build:dashboard\``);
  // OpenAPI: the UI at /api/docs, the document at /api/docs-json (built on first request, not at boot)
  SwaggerModule.setup('api/docs', app, () => createApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
  });
  await app.init();
  // Graph's notification POSTs skip Express's router and Nest's pipeline, through the same middlewares as above
  installGraphWebhookFastLane(app, {
    middlewares: [
      requestLog,
      requestMetrics,
      closeWhenDraining,
      headers,
      webhookRateLimit,
      webhookBody,
      mountedCors(app),
    ] as RequestHandler[],
  });
  await app.listen(config.port, config.host);
  const logger = new Logger('producer');
  logger.log(`API listening on http://${config.host}:${config.port} (health: /health, OpenAPI: /api/docs)`);

  // Graceful shutdown (SIGTERM, SIGINT): from the signal on, every answer closes its connection and idle
  // keep-alive connections are closed, so clients and load balancers take their next requests elsewhere; then the
  // app closes (Nest's hooks): the outbox relay and Kafka clients stop, the HTTP server stops listening and waits
  // for the requests in flight (a 202 is only sent once its command and outbox row are committed), and Redis
  // and Postgres close last. With Nest's own signal handling (enableShutdownHooks) a load balancer's keep-alive
  // connections kept the server open as long as requests kept coming, 10 s and more.
  const server: Server = app.getHttpServer();
  exitOnSignals(app, {
    name: 'producer',
    logger,
    beforeClose: () => {
      draining = true;
      server.closeIdleConnections();
    },
  });
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`producer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
