import type { ProducerConfig } from '@email-core/config';
import type { DomainEvent } from '@email-core/contracts';
import { RealtimeEventsConsumer, realtimeGroupId } from './realtime-events.consumer';
import type { RealtimeGateway } from './realtime.gateway';

const config = {
  kafka: {
    brokers: ['127.0.0.1:1'],
    clientId: 'email-core',
    topicPrefix: 'test.x.',
    partitions: 6,
    replicationFactor: 1,
  },
  realtime: { instanceId: 'api-1' },
} as unknown as ProducerConfig;

const event: DomainEvent = {
  type: 'sync.progress',
  v: 1,
  accountId: '0b8a4c1e-5c64-4a36-9d1f-0b0d6a1e2f3a',
  userId: '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10',
  foldersTotal: 3,
  foldersDone: 1,
  messagesSynced: 120,
  messagesTotal: 480,
  at: '2025-01-01T00:00:00.000Z',
};

function setup() {
  const gateway = { emitToUser: jest.fn() };
  const consumer = new RealtimeEventsConsumer(config, gateway as unknown as RealtimeGateway);
  return { gateway, consumer };
}

describe('RealtimeEventsConsumer', () => {
  it('reads the prefixed events topic in a group of its own', () => {
    const { consumer } = setup();
    expect(consumer.topic).toBe('test.x.email-core.events');
    expect(consumer.groupId).toBe('test.x.email-core-realtime-api-1');
  });

  it('names the group after host and pid when no instance id is configured', () => {
    const id = realtimeGroupId({ ...config, realtime: { instanceId: undefined } });
    expect(id).toMatch(new RegExp(`^test\\.x\\.email-core-realtime-[A-Za-z0-9._-]+-${process.pid}$`));
  });

  it('emits a valid event to its user', () => {
    const { gateway, consumer } = setup();
    expect(consumer.deliver(JSON.stringify(event), 'p0@1')).toBe(true);
    expect(gateway.emitToUser).toHaveBeenCalledWith(event);
    expect(consumer.stats()).toEqual({ delivered: 1, skipped: 0 });
  });

  it('skips and counts what is not a valid event, and keeps going', () => {
    const { gateway, consumer } = setup();
    const invalid = [
      null,
      'not json',
      JSON.stringify({ ...event, userId: 'not-a-uuid' }),
      JSON.stringify({ ...event, type: 'sync.unknown' }),
      JSON.stringify({ ...event, extra: 'field' }),
    ];
    for (const raw of invalid) expect(consumer.deliver(raw, 'p0@1')).toBe(false);
    expect(gateway.emitToUser).not.toHaveBeenCalled();
    expect(consumer.deliver(JSON.stringify(event), 'p0@2')).toBe(true);
    expect(consumer.stats()).toEqual({ delivered: 1, skipped: invalid.length });
  });
});
