import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { LiveSampler } from '../../live/live-sampler';
import { GetKafkaOverviewQuery } from '../kafka-overview/kafka-overview.query';
import type { LiveMetricsDto } from './live-metrics.dto';
import { GetLiveMetricsQuery } from './live-metrics.query';

/**
 * The sampler's last minute (this producer's registry and the consumers' GET /metrics, read every 5 s) and the
 * Kafka lag, asked of the broker now as the Kafka section asks it; Kafka not answering is reported, not an error.
 */
@QueryHandler(GetLiveMetricsQuery)
export class GetLiveMetricsQueryHandler implements IQueryHandler<GetLiveMetricsQuery, LiveMetricsDto> {
  constructor(
    private readonly sampler: LiveSampler,
    private readonly queries: QueryBus,
  ) {}

  async execute(): Promise<LiveMetricsDto> {
    let kafkaLag: number | null = null;
    let kafkaError: string | null = null;
    try {
      kafkaLag = (await this.queries.execute(new GetKafkaOverviewQuery())).totalLag;
    } catch (err) {
      kafkaError = err instanceof Error ? err.message : String(err);
    }
    const r = await this.sampler.reading();
    return {
      fetchedAt: new Date().toISOString(),
      sampledAt: r.sampledAt,
      windowSeconds: r.windowSeconds,
      syncMessagesPerSecond: r.syncMessagesPerSecond,
      syncMessages: r.syncMessages,
      webhookP95Seconds: r.webhookP95Seconds,
      webhookRequests: r.webhookRequests,
      kafkaLag,
      kafkaError,
      provider429s: r.provider429s,
      consumers: r.consumers,
    };
  }
}
