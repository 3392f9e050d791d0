import { Command } from '@nestjs/cqrs';
import type { ReplayResultDto } from './replay-dead-letter.dto';

/** Publish the dead letter at `partition`/`offset` to its original topic again, with a fresh attempt count. */
export class ReplayDeadLetterCommand extends Command<ReplayResultDto> {
  constructor(
    readonly partition: number,
    readonly offset: number,
    readonly force: boolean,
  ) {
    super();
  }
}
