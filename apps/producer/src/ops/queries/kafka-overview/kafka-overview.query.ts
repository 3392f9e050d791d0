import { Query } from '@nestjs/cqrs';
import type { KafkaOverviewDto } from './kafka-overview.dto';

/** The project's topics with their offsets, and its consumer groups with their lag. */
export class GetKafkaOverviewQuery extends Query<KafkaOverviewDto> {}
