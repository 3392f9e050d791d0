import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ApiExcludeController } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';
import { MetricsTokenGuard } from './metrics-token.guard';

/**
 * `GET /metrics`: the process's metrics in Prometheus' text exposition format, for a scraper (not part of the JSON
 * API, so not in its OpenAPI document).
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  /** written as is: Express's `send` would reorder the Content-Type's parameters (`charset` first) */
  @Get()
  @UseGuards(MetricsTokenGuard)
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  }
}
