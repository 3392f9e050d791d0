import { Query } from '@nestjs/cqrs';
import type { DatabaseOverviewDto } from './database-overview.dto';

/** The primary's basics (one cheap query) and the read replica's state, lag and read counters (ReadReplica). */
export class GetDatabaseOverviewQuery extends Query<DatabaseOverviewDto> {}
