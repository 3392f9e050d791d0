import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { correlationHeaders, withTimeout } from '@email-core/kafka';
import { DeadLetterReader } from '../../dead-letters/dead-letter-reader';
import { DeadLetterReplays } from '../../dead-letters/dead-letter-replays';
import { decodeDeadLetter } from '../../dead-letters/dead-letter-view';
import { OpsErrors } from '../../ops-errors';
import { OpsKafka } from '../../ops-kafka';
import { ReplayDeadLetterCommand } from './replay-dead-letter.command';
import type { ReplayResultDto } from './replay-dead-letter.dto';

const PUBLISH_TIMEOUT_MS = 10000;

/**
 * Replays one dead letter: reads it back by partition and offset, checks that it names a work topic of this
 * deployment, records the replay (atomically; a second replay without `force` is 409 ALREADY_REPLAYED), and
 * publishes the original value with its original key and no failure header, so the worker treats it as a first
 * delivery with the full retry budget. The replay carries the dead letter's correlation id, so the replayed work's log
 * lines join the failed attempts' (the operator's request line names both). Handlers are idempotent, so a forced second replay is harmless. If the
 * publish fails, the record is put back and the answer is 503.
 */
@CommandHandler(ReplayDeadLetterCommand)
export class ReplayDeadLetterHandler implements ICommandHandler<ReplayDeadLetterCommand, ReplayResultDto> {
  private readonly logger = new Logger('ReplayDeadLetter');

  constructor(
    private readonly kafka: OpsKafka,
    private readonly reader: DeadLetterReader,
    private readonly replays: DeadLetterReplays,
  ) {}

  async execute({ partition, offset, force }: ReplayDeadLetterCommand): Promise<ReplayResultDto> {
    const record = await this.reader.at(partition, BigInt(offset));
    if (!record) throw OpsErrors.deadLetterNotFound(partition, String(offset));
    const decoded = decodeDeadLetter(record);
    if (!decoded.ok) throw OpsErrors.notReplayable('it is not a failure envelope');
    const { envelope } = decoded;
    if (!this.kafka.replayTargets().has(envelope.topic)) {
      throw OpsErrors.notReplayable(`${envelope.topic} is not a work topic of this deployment`);
    }

    const replayedAt = new Date().toISOString();
    const claim = await this.replays.claim(record, replayedAt, force);
    if (!claim.claimed) throw OpsErrors.alreadyReplayed(claim.replayedAt);
    try {
      await withTimeout(
        this.kafka.publisher.publish(envelope.topic, envelope.key, envelope.value, {
          headers: correlationHeaders(record.correlationId ?? undefined),
        }),
        PUBLISH_TIMEOUT_MS,
        'publishing the replay timed out',
      );
    } catch (err) {
      await this.replays.release(record, claim.previous).catch(() => undefined);
      throw OpsErrors.kafkaUnavailable(err);
    }
    this.logger.log(
      `dead letter ${partition}@${offset} replayed to ${envelope.topic} (key ${envelope.key})${force ? ' (forced)' : ''}` +
        (record.correlationId ? `, correlation id ${record.correlationId}` : ''),
    );
    return {
      partition,
      offset,
      originalTopic: envelope.topic,
      key: envelope.key,
      replayedAt,
      previouslyReplayedAt: claim.previous,
    };
  }
}
