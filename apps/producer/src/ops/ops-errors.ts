import { AppError } from '../http/app-error';

/** The Ops API's errors; each code is stable and documented in docs/ops.md. */
export const OpsErrors = {
  forbidden: () =>
    new AppError(
      'OPS_FORBIDDEN',
      'forbidden',
      'the Ops API is for operators; whoever runs this deployment grants it with `npm run ops:grant -- <email>`',
    ),
  kafkaUnavailable: (cause?: unknown) =>
    new AppError('OPS_KAFKA_UNAVAILABLE', 'unavailable', 'Kafka did not answer in time; try again', {
      retryAfterSeconds: 5,
      cause,
    }),
  deadLetterNotFound: (partition: number, offset: string) =>
    new AppError(
      'DEAD_LETTER_NOT_FOUND',
      'not_found',
      `no dead letter at partition ${partition}, offset ${offset}`,
    ),
  notReplayable: (reason: string) =>
    new AppError('DEAD_LETTER_NOT_REPLAYABLE', 'conflict', `this dead letter cannot be replayed: ${reason}`),
  alreadyReplayed: (replayedAt: string) =>
    new AppError(
      'ALREADY_REPLAYED',
      'conflict',
      `this dead letter was already replayed at ${replayedAt}; send force: true to replay it again`,
      { details: { replayedAt } },
    ),
} as const;
