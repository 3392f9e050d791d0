import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DeadLetterReader } from '../../dead-letters/dead-letter-reader';
import { DeadLetterReplays } from '../../dead-letters/dead-letter-replays';
import { toDeadLetterView } from '../../dead-letters/dead-letter-view';
import { OpsKafka } from '../../ops-kafka';
import type { DeadLetterListDto } from './list-dead-letters.dto';
import { ListDeadLettersQuery } from './list-dead-letters.query';

@QueryHandler(ListDeadLettersQuery)
export class ListDeadLettersQueryHandler implements IQueryHandler<ListDeadLettersQuery, DeadLetterListDto> {
  constructor(
    private readonly kafka: OpsKafka,
    private readonly reader: DeadLetterReader,
    private readonly replays: DeadLetterReplays,
  ) {}

  async execute({ limit }: ListDeadLettersQuery): Promise<DeadLetterListDto> {
    const records = await this.reader.newest(limit);
    const replayed = await this.replays.replayedAt(records);
    const targets = this.kafka.replayTargets();
    return {
      topic: this.reader.topic,
      fetchedAt: new Date().toISOString(),
      items: records.map((r) =>
        toDeadLetterView(r, targets, replayed.get(`${r.partition}:${r.offset}`) ?? null),
      ),
    };
  }
}
