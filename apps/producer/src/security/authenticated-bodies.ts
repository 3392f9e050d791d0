import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ProducerConfig } from '@email-core/config';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { RateLimiter, type RateLimitRule } from '../auth/rate-limit/rate-limiter';
import { COMMAND_BATCHES_ROUTE } from '../commands/command-batches.controller';
import { commandBody, COMMANDS_ROUTE } from '../commands/command-body-limit';
import { uploadBody, uploadChunkBody, UPLOADS_ROUTE } from '../commands/upload-body';
import { authenticateBeforeBody, userRateLimit } from './before-body';
import { ipRateLimit } from './ip-rate-limit';

const POST = ['POST'] as const;
const PUT = ['PUT'] as const;
const perMinute = (limit: number): RateLimitRule => ({ limit, windowMs: 60_000 });

/**
 * The routes that read more than JSON_BODY_LIMIT_BYTES, `POST /commands` and `POST /commands/batches` (4 MiB of
 * JSON each) and `POST /uploads` (3 MB of raw bytes), and the resync: each request passes, in this order and before a byte of its body is read,
 * a per-source-IP limit, the bearer token (the same JwtAuthGuard as the controllers; 401 `UNAUTHENTICATED`) and
 * a per-user limit (429 `RATE_LIMITED` with `Retry-After`); only then is the body read, by the route's own reader.
 * Mounted by main.ts after CORS (a browser can read the refusals) and before Nest's parsers.
 */
export function mountAuthenticatedBodies(app: NestExpressApplication, config: ProducerConfig): void {
  const limiter = app.get(RateLimiter);
  const authenticate = authenticateBeforeBody(app.get(JwtAuthGuard), POST);
  const perIp = (scope: string) =>
    ipRateLimit(limiter, {
      scope,
      rule: perMinute(config.limits.commandsPerIpPerMinute),
      methods: POST,
      failOpen: false,
    });
  const perUser = (scope: string, limit: number) =>
    userRateLimit(limiter, { scope, rule: perMinute(limit), methods: POST });

  app.use(
    `/api/v1/${COMMANDS_ROUTE}`,
    perIp('commands-ip'),
    authenticate,
    perUser('commands-user', config.limits.commandsPerMinute),
    commandBody(),
  );
  // `/commands/batches` is under `/commands`: the commands' per-address and per-user limits and the token above
  // apply to it already (a batch counts one); then a limit of its own and the commands' 4 MiB parser (many ids)
  app.use(
    `/api/v1/${COMMAND_BATCHES_ROUTE}`,
    perUser('command-batches-user', config.limits.commandBatchesPerMinute),
    commandBody(),
  );
  app.use(
    `/api/v1/${UPLOADS_ROUTE}`,
    perIp('uploads-ip'),
    authenticate,
    perUser('uploads-user', config.limits.uploadsPerMinute),
    uploadBody(),
  );
  // an upload session's chunks (`PUT /uploads/{id}`, 4 MiB each; docs/attachments.md): the same checks, a limit
  // of their own (a 150 MB file is 38 of them), then the chunk's bounded reader
  app.use(
    `/api/v1/${UPLOADS_ROUTE}`,
    ipRateLimit(limiter, {
      scope: 'upload-chunks-ip',
      rule: perMinute(config.limits.commandsPerIpPerMinute),
      methods: PUT,
      failOpen: false,
    }),
    authenticateBeforeBody(app.get(JwtAuthGuard), PUT),
    userRateLimit(limiter, {
      scope: 'upload-chunks-user',
      rule: perMinute(config.limits.uploadChunksPerMinute),
      methods: PUT,
    }),
    uploadChunkBody(),
  );
  app.use('/api/v1/accounts/:id/resync', authenticate, perUser('resync-user', config.limits.resyncPerMinute));
}
