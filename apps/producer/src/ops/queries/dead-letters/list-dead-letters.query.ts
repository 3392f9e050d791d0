import { Query } from '@nestjs/cqrs';
import type { DeadLetterListDto } from './list-dead-letters.dto';

/** The newest dead letters, with when each was replayed. */
export class ListDeadLettersQuery extends Query<DeadLetterListDto> {
  constructor(readonly limit: number) {
    super();
  }
}
