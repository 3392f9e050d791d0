import { applyDecorators, Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { ReplayDeadLetterCommand } from './commands/replay-dead-letter/replay-dead-letter.command';
import {
  replayDeadLetterOpenApi,
  replayDeadLetterSchema,
  ReplayResultDto,
  type ReplayDeadLetterBody,
} from './commands/replay-dead-letter/replay-dead-letter.dto';
import { OpsOperatorGuard } from './ops-operator.guard';
import { DatabaseOverviewDto } from './queries/database/database-overview.dto';
import { GetDatabaseOverviewQuery } from './queries/database/database-overview.query';
import {
  DeadLetterListDto,
  LIST_DEAD_LETTERS_QUERY_DOCS,
  listDeadLettersQuerySchema,
  type ListDeadLettersParams,
} from './queries/dead-letters/list-dead-letters.dto';
import { ListDeadLettersQuery } from './queries/dead-letters/list-dead-letters.query';
import { KafkaOverviewDto } from './queries/kafka-overview/kafka-overview.dto';
import { GetKafkaOverviewQuery } from './queries/kafka-overview/kafka-overview.query';
import { LiveMetricsDto } from './queries/live/live-metrics.dto';
import { GetLiveMetricsQuery } from './queries/live/live-metrics.query';
import { GraphSubscriptionListDto } from './queries/subscriptions/list-subscriptions.dto';
import { ListSubscriptionsQuery } from './queries/subscriptions/list-subscriptions.query';

const KAFKA_DOWN = 'OPS_KAFKA_UNAVAILABLE: Kafka did not answer in time (`Retry-After`)';

/** What operators see and do (the dashboard's Ops page). See docs/ops.md. */
@ApiTags('ops')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
@ApiForbiddenResponse({
  description: 'OPS_FORBIDDEN: the user is not an operator (granted with `npm run ops:grant -- <email>`)',
})
@UseGuards(JwtAuthGuard, OpsOperatorGuard)
@Controller('ops')
export class OpsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('kafka')
  @ApiOperation({
    summary: 'The project’s topics with partitions and offsets; its consumer groups with lag per partition',
  })
  @ApiOkResponse({ type: KafkaOverviewDto })
  @ApiServiceUnavailableResponse({ description: KAFKA_DOWN })
  kafka(): Promise<KafkaOverviewDto> {
    return this.queries.execute(new GetKafkaOverviewQuery());
  }

  @Get('dead-letters')
  @ApiOperation({
    summary: 'The newest messages on the dead-letter topic, newest first',
    description: 'Read without committing any offset of any real consumer group.',
  })
  @applyDecorators(...LIST_DEAD_LETTERS_QUERY_DOCS.map((doc) => ApiQuery(doc)))
  @ApiOkResponse({ type: DeadLetterListDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: limit is not 1–500' })
  @ApiServiceUnavailableResponse({ description: KAFKA_DOWN })
  deadLetters(
    @Query(new ZodValidationPipe(listDeadLettersQuerySchema)) params: ListDeadLettersParams,
  ): Promise<DeadLetterListDto> {
    return this.queries.execute(new ListDeadLettersQuery(params.limit));
  }

  @Post('dead-letters/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Publish a dead letter to its original topic again (same key, fresh attempt count)',
    description:
      'A second replay of the same dead letter answers 409 ALREADY_REPLAYED unless `force` is true.',
  })
  @ApiBody({ schema: replayDeadLetterOpenApi })
  @ApiAcceptedResponse({ type: ReplayResultDto, description: 'published' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'DEAD_LETTER_NOT_FOUND: the topic holds no message there' })
  @ApiConflictResponse({ description: 'ALREADY_REPLAYED, DEAD_LETTER_NOT_REPLAYABLE' })
  @ApiServiceUnavailableResponse({ description: KAFKA_DOWN })
  replay(
    @Body(new ZodValidationPipe(replayDeadLetterSchema)) body: ReplayDeadLetterBody,
  ): Promise<ReplayResultDto> {
    return this.commands.execute(new ReplayDeadLetterCommand(body.partition, body.offset, body.force));
  }

  @Get('subscriptions')
  @ApiOperation({ summary: 'Graph subscriptions with their mailbox, expiry and state' })
  @ApiOkResponse({ type: GraphSubscriptionListDto })
  subscriptions(): Promise<GraphSubscriptionListDto> {
    return this.queries.execute(new ListSubscriptionsQuery());
  }

  @Get('database')
  @ApiOperation({
    summary: 'The primary’s basics and the read replica: its state, lag, and the reads each side served',
    description:
      'The replica part is what this producer instance’s ReadReplica last probed (every 200 ms); the primary part is ' +
      'one `pg_is_in_recovery()`, `pg_current_wal_lsn()` query. A replica that is down or behind is reported, never ' +
      'an error: reads then go to the primary.',
  })
  @ApiOkResponse({ type: DatabaseOverviewDto })
  database(): Promise<DatabaseOverviewDto> {
    return this.queries.execute(new GetDatabaseOverviewQuery());
  }

  @Get('live')
  @ApiOperation({
    summary:
      'The live panel: sync rate, webhook latency p95, Kafka lag and provider 429s over the last minute',
    description:
      'The same series Prometheus scrapes, read without one: every 5 s this producer instance reads its own ' +
      'registry and each consumer’s GET /metrics listed in OPS_CONSUMER_METRICS_URLS (with METRICS_TOKEN), and ' +
      'keeps a minute of readings in memory; the Kafka lag is asked of the broker on each request.',
  })
  @ApiOkResponse({ type: LiveMetricsDto })
  live(): Promise<LiveMetricsDto> {
    return this.queries.execute(new GetLiveMetricsQuery());
  }
}
