import { Logger } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import type { DomainEvent } from '@email-core/contracts';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import { ProducerMetrics } from '../metrics/producer-metrics';
import { RealtimeGateway } from './realtime.gateway';
import type { SocketAuthenticator } from './socket-auth';

const config = {
  corsOrigins: ['http://localhost:5173'],
  publicBaseUrl: 'http://127.0.0.1:3000',
} as unknown as ProducerConfig;

describe('RealtimeGateway.emitToUser', () => {
  it("emits to the event's user's room only, under the event's type", () => {
    const emit = jest.fn();
    const to = jest.fn(() => ({ emit }));
    const rooms = new Map([['user:6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10', new Set(['s1', 's2'])]]);
    const server = {
      engine: { use: jest.fn() },
      use: jest.fn(),
      to,
      emit: jest.fn(),
      sockets: { adapter: { rooms } },
    };
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const gateway = new RealtimeGateway(config, {} as SocketAuthenticator);
    gateway.afterInit(server as never);
    const event = {
      type: 'account.status',
      v: 1,
      accountId: '0b8a4c1e-5c64-4a36-9d1f-0b0d6a1e2f3a',
      userId: '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10',
      status: 'synced',
      at: '2025-01-01T00:00:00.000Z',
    } satisfies DomainEvent;
    gateway.emitToUser(event);
    expect(to).toHaveBeenCalledWith('user:6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10');
    expect(emit).toHaveBeenCalledWith('account.status', event);
    expect(server.emit).not.toHaveBeenCalled();
    // one line at the emit (the logger's mixin adds the correlation id the event came with)
    expect(log).toHaveBeenCalledWith(
      "socket emit account.status of account 0b8a4c1e-5c64-4a36-9d1f-0b0d6a1e2f3a to user 6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10's room (2 socket(s))",
    );
    log.mockRestore();
  });
});

describe('RealtimeGateway: email_core_socket_connections', () => {
  it("reports the sockets admitted to the server's namespace at each scrape", async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const gateway = new RealtimeGateway(config, {} as SocketAuthenticator, new ProducerMetrics(registry));
    const sockets = new Map<string, unknown>();
    const server = { engine: { use: jest.fn() }, use: jest.fn(), sockets: { sockets } };
    const connections = async () =>
      sumOf(parseExposition(await registry.metrics()), 'email_core_socket_connections');
    expect(await connections()).toBe(0);
    gateway.afterInit(server as never);
    sockets.set('a', {}).set('b', {});
    expect(await connections()).toBe(2);
    sockets.delete('a');
    expect(await connections()).toBe(1);
  });
});
