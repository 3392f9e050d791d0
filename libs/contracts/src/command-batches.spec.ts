import { MAIL_COMMAND_STATUSES } from './mail-actions';
import { combinedBatchStatus, commandBatchStatusSchema } from './command-batches';

describe('command batches', () => {
  it('combines its commands into one status', () => {
    expect(combinedBatchStatus({ queued: 3, sent: 0, done: 0, failed: 0 })).toBe('queued');
    expect(combinedBatchStatus({ queued: 2, sent: 1, done: 0, failed: 0 })).toBe('sent');
    expect(combinedBatchStatus({ queued: 1, sent: 0, done: 2, failed: 0 })).toBe('sent');
    expect(combinedBatchStatus({ queued: 0, sent: 0, done: 2, failed: 1 })).toBe('failed');
    expect(combinedBatchStatus({ queued: 0, sent: 1, done: 1, failed: 1 })).toBe('sent');
    expect(combinedBatchStatus({ queued: 0, sent: 0, done: 3, failed: 0 })).toBe('done');
  });

  it('its event takes the command statuses', () => {
    expect(commandBatchStatusSchema.shape.status.options).toEqual([...MAIL_COMMAND_STATUSES]);
  });
});
