import { randomUUID } from 'node:crypto';
import { domainEventSchema, type DomainEvent } from '@email-core/contracts';
import type { CommandBatchView, MailCommandBatchesRepository, MailCommandView } from '@email-core/database';
import type { DomainEventsPublisher } from '../messaging/domain-events.publisher';
import { CommandStatusEvents } from './command-status';

const userId = randomUUID();
const accountId = randomUUID();
const command: MailCommandView = {
  id: randomUUID(),
  accountId,
  action: 'move',
  status: 'done',
  reasonCode: null,
  reason: null,
  createdAt: '2026-12-05T10:00:00.000Z',
  updatedAt: '2026-12-05T10:00:05.000Z',
} as MailCommandView;

function setup(batch: (CommandBatchView & { userId: string }) | null) {
  const published: DomainEvent[] = [];
  const events = { publish: jest.fn((e: DomainEvent) => Promise.resolve(void published.push(e))) };
  const batches = { findByCommand: jest.fn(() => Promise.resolve(batch)) };
  const status = new CommandStatusEvents(
    events as unknown as DomainEventsPublisher,
    batches as unknown as MailCommandBatchesRepository,
  );
  return { status, published, batches };
}

describe('CommandStatusEvents', () => {
  it('a lone command: its command.status only', async () => {
    const { status, published } = setup(null);
    await status.announce(userId, command);
    expect(published.map((e) => e.type)).toEqual(['command.status']);
  });

  it("a batch's command: its command.status, then the batch's combined command.batch.status (a valid event)", async () => {
    const batchId = randomUUID();
    const { status, published, batches } = setup({
      id: batchId,
      userId,
      accountId,
      action: 'move',
      status: 'failed',
      messages: 1200,
      commands: 3,
      counts: { queued: 0, sent: 0, done: 2, failed: 1 },
      reasonCode: 'PARTIAL_FAILURE',
      reason: 'x'.repeat(600),
      createdAt: '2026-12-05T10:00:00.000Z',
      updatedAt: '2026-12-05T10:00:09.000Z',
    });
    await status.announce(userId, command);
    expect(batches.findByCommand).toHaveBeenCalledWith(command.id);
    expect(published.map((e) => e.type)).toEqual(['command.status', 'command.batch.status']);
    const event = domainEventSchema.parse(published[1]);
    expect(event).toMatchObject({
      type: 'command.batch.status',
      batchId,
      userId,
      status: 'failed',
      messages: 1200,
      commands: 3,
      counts: { done: 2, failed: 1 },
      reasonCode: 'PARTIAL_FAILURE',
      at: '2026-12-05T10:00:09.000Z',
    });
    expect((event as { reason: string }).reason).toHaveLength(500);
  });
});
