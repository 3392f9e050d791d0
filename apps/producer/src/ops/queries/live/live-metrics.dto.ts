import { ApiProperty } from '@nestjs/swagger';

export class LiveConsumerSourceDto {
  @ApiProperty({
    example: 'http://127.0.0.1:3001',
    description: 'a consumer’s health port (OPS_CONSUMER_METRICS_URLS)',
  })
  url!: string;

  @ApiProperty({ description: 'its GET /metrics answered the last reading' })
  reachable!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'why it did not, when it did not' })
  error!: string | null;
}

export class LiveMetricsDto {
  @ApiProperty({ format: 'date-time', description: 'when this answer was put together' })
  fetchedAt!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'the last reading of the metrics (every 5 s); null before the first',
  })
  sampledAt!: string | null;

  @ApiProperty({
    description:
      'seconds the figures cover: between the first and the last reading of the last minute (0: one reading, no rates yet)',
  })
  windowSeconds!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'messages written to the mirror per second over the window, every configured consumer together ' +
      '(email_core_sync_messages_written_total); null when no consumer was read twice (none configured, or unreachable)',
  })
  syncMessagesPerSecond!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'messages written to the mirror in the window' })
  syncMessages!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      '95th percentile of the webhook’s answer time to Graph in the window (seconds), this producer instance’s ' +
      'answers; null without any',
  })
  webhookP95Seconds!: number | null;

  @ApiProperty({ description: 'webhook POSTs this producer instance answered in the window' })
  webhookRequests!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'messages the project’s consumer groups have not handled yet (sum of every group’s lag, asked of Kafka now); ' +
      'null when Kafka did not answer',
  })
  kafkaLag!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'why kafkaLag is null, when it is' })
  kafkaError!: string | null;

  @ApiProperty({
    description:
      'provider answers 429 Too Many Requests in the window (email_core_provider_requests_total{status="429"}), ' +
      'this producer’s and the configured consumers’ requests',
  })
  provider429s!: number;

  @ApiProperty({
    type: () => [LiveConsumerSourceDto],
    description: 'the consumers whose GET /metrics are read (empty: OPS_CONSUMER_METRICS_URLS unset)',
  })
  consumers!: LiveConsumerSourceDto[];
}
