import { applyDecorators, Controller, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { ProducerConfig } from '@email-core/config';
import { acceptCorrelationId, currentCorrelationId, runWithCorrelation } from '@email-core/logging';
import { PRODUCER_CONFIG } from '../config.module';
import { AcceptChangeNotificationsCommand } from './commands/accept-change-notifications/accept-change-notifications.command';
import { AcceptLifecycleNotificationsCommand } from './commands/accept-lifecycle-notifications/accept-lifecycle-notifications.command';
import { parseNotificationBody } from './notification-payload';
import { answerValidation, validationTokenOf } from './validation-token';

/**
 * Microsoft Graph's calls to us (no bearer: Graph proves itself per item with the subscription's clientState).
 * Validation request → 200 text/plain with the token; notifications → verified, published to Kafka, then 202.
 */
/** What both webhook URLs answer (the handshake, 202, and the refusals), for the OpenAPI document. */
const WebhookResponses = () =>
  applyDecorators(
    ApiQuery({ name: 'validationToken', required: false, description: 'the validation handshake' }),
    ApiOkResponse({ description: 'the validation token, as text/plain' }),
    ApiAcceptedResponse({
      description: 'stored in Kafka (unknown or forged items are dropped, not refused)',
    }),
    ApiBadRequestResponse({
      description: '`INVALID_JSON`, `INVALID_NOTIFICATION`, `INVALID_VALIDATION_TOKEN`',
    }),
    ApiPayloadTooLargeResponse({
      description:
        '`PAYLOAD_TOO_LARGE` (bytes), `TOO_MANY_NOTIFICATIONS` (more than `WEBHOOK_MAX_ITEMS` items)',
    }),
    ApiTooManyRequestsResponse({
      description: '`RATE_LIMITED`: too many POSTs, or too many unknown subscription ids, from this address',
    }),
    ApiServiceUnavailableResponse({ description: '`NOTIFICATIONS_UNAVAILABLE`: Graph delivers again' }),
  );

@ApiTags('graph webhook')
@Controller('graph')
export class GraphWebhookController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
  ) {}

  @Post('notifications')
  @ApiOperation({
    summary: "Graph's change notifications (and lifecycle events of subscriptions without their own URL)",
  })
  @WebhookResponses()
  async notifications(
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const token = validationTokenOf(query);
    if (token !== undefined) return answerValidation(res, token);
    return withRequestCorrelation(req, () => this.acceptNotifications(req, res));
  }

  private async acceptNotifications(req: Request, res: Response): Promise<void> {
    const { changes, lifecycle } = parseNotificationBody(
      req.body,
      'notifications',
      this.config.webhook.maxItems,
    );
    const receivedAt = new Date().toISOString();
    const source = sourceOf(req);
    await Promise.all([
      changes.length > 0 &&
        this.commands.execute(new AcceptChangeNotificationsCommand(changes, receivedAt, source)),
      lifecycle.length > 0 &&
        this.commands.execute(new AcceptLifecycleNotificationsCommand(lifecycle, receivedAt, source)),
    ]);
    res.status(202).end();
  }

  @Post('lifecycle')
  @ApiOperation({
    summary: "Graph's lifecycle notifications: reauthorizationRequired, subscriptionRemoved, missed",
  })
  @WebhookResponses()
  async lifecycle(
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const token = validationTokenOf(query);
    if (token !== undefined) return answerValidation(res, token);
    return withRequestCorrelation(req, async () => {
      const { lifecycle } = parseNotificationBody(req.body, 'lifecycle', this.config.webhook.maxItems);
      if (lifecycle.length > 0) {
        await this.commands.execute(
          new AcceptLifecycleNotificationsCommand(lifecycle, new Date().toISOString(), sourceOf(req)),
        );
      }
      res.status(202).end();
    });
  }
}

/** the address the unknown-id budget charges (Express's `req.ip`, so TRUST_PROXY semantics apply) */
function sourceOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Runs a POST's work under its correlation id, which its Kafka messages carry to the consumer's round and the
 * socket emit: the request's id (the request log middleware sets it as the correlation id: the caller's
 * `X-Request-Id` when well-formed, else a UUID; the fast lane runs that middleware too), else, outside that
 * middleware, `X-Request-Id` or `client-request-id` when well-formed, else a fresh one. The webhook's lines then carry the same id as `reqId` and `correlationId`.
 */
function withRequestCorrelation<T>(req: Request, fn: () => Promise<T>): Promise<T> {
  const id =
    currentCorrelationId() ??
    acceptCorrelationId(req.headers['x-request-id']) ??
    acceptCorrelationId(req.headers['client-request-id']);
  return runWithCorrelation(id, fn);
}
