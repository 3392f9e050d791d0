import { MAIL_ACTIONS, MAIL_COMMAND_STATUSES } from './mail-actions';
import { commandStatusSchema, mailCommandQueuedSchema, mailCommandRequestSchema } from './mail-commands';

describe('the mail-action list', () => {
  it('is the request schema: one variant per action, in the same order', () => {
    expect(mailCommandRequestSchema.options.map((variant) => variant.shape.action.value)).toEqual([
      ...MAIL_ACTIONS,
    ]);
  });

  it('is what the queued message and the status event accept', () => {
    expect(mailCommandQueuedSchema.shape.action.options).toEqual([...MAIL_ACTIONS]);
    expect(commandStatusSchema.shape.action.options).toEqual([...MAIL_ACTIONS]);
    expect(commandStatusSchema.shape.status.options).toEqual([...MAIL_COMMAND_STATUSES]);
  });
});
