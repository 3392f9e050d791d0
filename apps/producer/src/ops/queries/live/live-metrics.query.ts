import { Query } from '@nestjs/cqrs';
import type { LiveMetricsDto } from './live-metrics.dto';

/** The live panel's figures: sync rate, webhook latency, Kafka lag and provider 429s over the last minute. */
export class GetLiveMetricsQuery extends Query<LiveMetricsDto> {}
