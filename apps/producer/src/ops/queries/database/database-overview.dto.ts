import { ApiProperty } from '@nestjs/swagger';

/** `serving`: reads go to the replica; `degraded`: configured but serving no reads (see `reason`); `off`: none configured */
export const REPLICA_STATES = ['serving', 'degraded', 'off'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export class DatabasePrimaryDto {
  @ApiProperty({ description: 'the primary answered this request’s query in time' })
  reachable!: boolean;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: '`pg_is_in_recovery()`: false on a primary; null when it did not answer',
  })
  inRecovery!: boolean | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '0/3000148',
    description: '`pg_current_wal_lsn()`: the primary’s current WAL position; null when it did not answer',
  })
  walLsn!: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'how long the query took (ms); null when it did not answer',
  })
  latencyMs!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'why it did not answer, when it did not' })
  error!: string | null;
}

export class ReplicaReadsDto {
  @ApiProperty({ description: 'reads served by the replica since this producer instance started' })
  replica!: number;

  @ApiProperty({
    description:
      'reads served by the primary since this producer instance started (no replica, replica behind or out, ' +
      'the account’s last write not replayed yet, fallbacks included)',
  })
  primary!: number;

  @ApiProperty({
    description: 'reads that failed on the replica for a replica reason and ran again on the primary',
  })
  fallbacks!: number;
}

export class DatabaseReplicaDto {
  @ApiProperty({
    enum: REPLICA_STATES,
    description:
      '`serving`: reads go to the replica; `degraded`: configured but serving no reads (see `reason`); ' +
      '`off`: no replica configured (DATABASE_READ_URL unset), every read goes to the primary',
  })
  state!: ReplicaState;

  @ApiProperty({ description: 'a replica is configured (DATABASE_READ_URL)' })
  configured!: boolean;

  @ApiProperty({ description: 'reads go to it now (subject to each account’s write watermark)' })
  serving!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'why it serves no reads, when it does not' })
  reason!: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'how far its replay is behind the primary (ms) as last probed; null before the first probe',
  })
  lagMs!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'WAL bytes the primary has written that the replica has not replayed yet; null before the first probe',
  })
  lagBytes!: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'when the last probe of the replica answered (they run every 200 ms); null if none has',
  })
  checkedAt!: string | null;

  @ApiProperty({
    type: () => ReplicaReadsDto,
    description: 'the query side’s reads in this producer instance',
  })
  reads!: ReplicaReadsDto;
}

export class DatabaseOverviewDto {
  @ApiProperty({ format: 'date-time', description: 'when this answer was put together (nothing is cached)' })
  fetchedAt!: string;

  @ApiProperty({ type: () => DatabasePrimaryDto })
  primary!: DatabasePrimaryDto;

  @ApiProperty({
    type: () => DatabaseReplicaDto,
    description: 'the read replica as this producer instance’s ReadReplica last probed it',
  })
  replica!: DatabaseReplicaDto;
}
