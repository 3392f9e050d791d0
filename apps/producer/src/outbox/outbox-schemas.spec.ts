import { randomUUID } from 'node:crypto';
import { Topics } from '@email-core/contracts';
import { isKnownTopic, outboxPayloadProblem } from './outbox-schemas';

describe('outbox payload checks', () => {
  const valid = {
    type: 'sync.requested',
    v: 1,
    accountId: randomUUID(),
    reason: 'linked',
    requestedAt: new Date().toISOString(),
  };

  it('accepts a message that satisfies its contract', () => {
    expect(outboxPayloadProblem('sync.requested', valid)).toBeNull();
  });

  it('names the path and rule of what is wrong, never the value', () => {
    const problem = outboxPayloadProblem('sync.requested', { ...valid, accountId: 'secret-ish-value' });
    expect(problem).toBe('accountId: invalid_string');
    expect(outboxPayloadProblem('sync.requested', { ...valid, extra: 1 })).toMatch(/unrecognized_keys/);
    expect(outboxPayloadProblem('no.such.type', valid)).toMatch(/no schema/);
  });

  it('checks the subscription removal an unlink writes', () => {
    const removal = {
      type: 'subscription.delete',
      v: 1,
      accountId: randomUUID(),
      removalId: randomUUID(),
      requestedAt: new Date().toISOString(),
    };
    expect(outboxPayloadProblem('subscription.delete', removal)).toBeNull();
    expect(outboxPayloadProblem('subscription.delete', { ...removal, removalId: undefined })).toBe(
      'removalId: invalid_type',
    );
    // tokens never travel in the message: the removal row holds them, sealed
    expect(outboxPayloadProblem('subscription.delete', { ...removal, accessToken: 'x' })).toMatch(
      /unrecognized_keys/,
    );
  });

  it('checks the mail command a submitted action writes: ids only, never the request or its attachments', () => {
    const queued = {
      type: 'mail.command',
      v: 1,
      commandId: randomUUID(),
      accountId: randomUUID(),
      action: 'send',
      queuedAt: new Date().toISOString(),
    };
    expect(outboxPayloadProblem('mail.command', queued)).toBeNull();
    expect(outboxPayloadProblem('mail.command', { ...queued, action: 'archive' })).toBe(
      'action: invalid_enum_value',
    );
    expect(outboxPayloadProblem('mail.command', { ...queued, attachments: [] })).toMatch(/unrecognized_keys/);
    expect(isKnownTopic(Topics.mailCommands)).toBe(true);
  });

  it('knows only the topics of the contracts', () => {
    expect(isKnownTopic(Topics.syncRequests)).toBe(true);
    expect(isKnownTopic('t')).toBe(false);
  });
});
