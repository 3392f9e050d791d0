import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AdminHooks } from '../faults/admin-hooks';
import { FaultsService, type FaultSettings } from '../faults/faults.service';
import { StatsService } from '../faults/stats.service';
import { Throttle } from '../graph/throttle';
import { AdminApiGuard } from '../http/admin-api.guard';
import { MailboxStore } from '../store/mailbox-store';
import { ActivityService } from './activity.service';
import { AdminError, parseBody } from './admin-error';

const probability = z.number().min(0).max(1);
const faultsBody = z
  .object({
    throttling: z
      .object({
        enabled: z.boolean(),
        concurrency: z.number().int().min(1).max(1000),
        budget: z.number().int().min(1),
        windowSeconds: z.number().positive(),
        retryAfterSeconds: z.number().min(0),
      })
      .partial()
      .strict()
      .optional(),
    subscriptionThrottling: z
      .object({
        enabled: z.boolean(),
        writes: z.number().int().min(1),
        requests: z.number().int().min(1),
        windowSeconds: z.number().positive(),
      })
      .partial()
      .strict()
      .optional(),
    randomErrors: z
      .object({
        rate: probability,
        statuses: z.array(z.union([z.literal(429), z.literal(503), z.literal(504)])).min(1),
        retryAfterSeconds: z.number().min(0),
      })
      .partial()
      .strict()
      .optional(),
    failNext: z
      .object({
        count: z.number().int().min(0).max(10_000),
        status: z.union([z.literal(429), z.literal(503), z.literal(504)]),
        retryAfterSeconds: z.number().min(0),
      })
      .partial()
      .strict()
      .optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    notifications: z
      .object({
        drop: probability,
        duplicate: probability,
        delayMs: z.number().int().min(0).max(600_000),
        reorder: z.boolean(),
      })
      .partial()
      .strict()
      .optional(),
    accessTokenLifetimeSeconds: z.number().int().min(1).max(86_400).optional(),
    /** one-off actions */
    expireDeltaTokens: z.union([z.literal(true), z.string().email()]).optional(),
    revokeRefreshTokens: z.string().email().optional(),
    lifecycle: z
      .object({
        subscriptionId: z.string().min(1),
        event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
      })
      .strict()
      .optional(),
  })
  .strict();

const tokenBody = z
  .object({
    address: z.string().email(),
    clientId: z.string().min(1).optional(),
    scopes: z.array(z.string()).optional(),
  })
  .strict();

/** faults, stats, reset, and a test convenience that mints an access token without the sign-in page */
@Controller('_emulator')
@UseGuards(AdminApiGuard)
export class AdminFaultsController {
  constructor(
    private readonly faults: FaultsService,
    private readonly stats: StatsService,
    private readonly store: MailboxStore,
    private readonly throttle: Throttle,
    private readonly activity: ActivityService,
    private readonly hooks: AdminHooks,
  ) {}

  @Get('faults')
  current(): FaultSettings {
    return this.faults.settings;
  }

  @Post('faults')
  @HttpCode(200)
  async update(@Body() body: unknown): Promise<Record<string, unknown>> {
    const input = parseBody(faultsBody, body);
    const { expireDeltaTokens, revokeRefreshTokens, lifecycle, ...settings } = input;
    const actions: Record<string, unknown> = {};
    if (expireDeltaTokens !== undefined) {
      const targets =
        expireDeltaTokens === true ? this.store.list() : [this.store.findByAddress(expireDeltaTokens)];
      if (targets.some((t) => !t))
        throw new AdminError(404, 'mailbox_not_found', `no mailbox ${String(expireDeltaTokens)}`);
      for (const t of targets) t!.syncGeneration++;
      actions.expiredDeltaTokens = targets.length;
    }
    if (revokeRefreshTokens !== undefined) {
      if (!this.hooks.revokeRefreshTokens)
        throw new AdminError(501, 'not_available', 'token revocation is not available');
      actions.revokedRefreshTokens = this.hooks.revokeRefreshTokens(revokeRefreshTokens);
    }
    if (lifecycle) {
      if (!this.hooks.fireLifecycle)
        throw new AdminError(501, 'not_available', 'lifecycle events are not available');
      await this.hooks.fireLifecycle(lifecycle.subscriptionId, lifecycle.event);
      actions.lifecycle = lifecycle;
    }
    return { settings: this.faults.update(settings), actions };
  }

  @Get('stats')
  snapshot(@Query('gc') gc?: string): Record<string, unknown> {
    // with --expose-gc, `?gc=true` collects first so heapUsed is the live size (what the benchmark reports)
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc === 'true' && collect) collect();
    const mem = process.memoryUsage();
    return {
      totals: { mailboxes: this.store.list().length, messages: this.store.totalMessages() },
      heapUsedBytes: mem.heapUsed,
      rssBytes: mem.rss,
      ...this.stats.snapshot(),
      subscriptionService: this.throttle.subscriptionServiceStats(),
    };
  }

  @Post('reset')
  @HttpCode(204)
  reset(): void {
    this.activity.reset();
    this.hooks.reset();
    this.store.reset();
    this.faults.reset();
    this.stats.reset();
    this.throttle.reset();
  }

  @Post('tokens')
  token(@Body() body: unknown): Record<string, unknown> {
    const input = parseBody(tokenBody, body);
    if (!this.hooks.issueAccessToken)
      throw new AdminError(501, 'not_available', 'token issuing is not available');
    if (!this.store.findByAddress(input.address))
      throw new AdminError(404, 'mailbox_not_found', `no mailbox ${input.address}`);
    return { token_type: 'Bearer', ...this.hooks.issueAccessToken(input) };
  }
}
