import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { QueryClient } from '@tanstack/react-query';

// The socket is faked (no server here): the test drives its `connect` and events by hand. The API client is
// never reached by what these tests do; it is replaced because it reads the browser's location at import.
type Listener = (...args: unknown[]) => void;
const mockSocket = {
  listeners: new Map<string, Listener>(),
  any: null as ((event: string, payload: unknown) => void) | null,
  active: true,
  connected: false,
  on(event: string, listener: Listener) {
    this.listeners.set(event, listener);
    return this;
  },
  onAny(listener: (event: string, payload: unknown) => void) {
    this.any = listener;
    return this;
  },
  connect() {
    this.connected = true;
    this.listeners.get('connect')?.();
  },
  disconnect() {
    this.connected = false;
  },
  removeAllListeners() {},
  offAny() {},
};
jest.mock('socket.io-client', () => ({ io: () => mockSocket }));
jest.mock('@/api/client', () => ({
  api: { GET: () => Promise.reject(new Error('not in this test')) },
  getAccessToken: () => 't',
  unwrap: (x: unknown) => x,
}));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- after the mocks above, and with `window` set
const load = () => require('./connection') as typeof import('./connection');

describe('RealtimeConnection', () => {
  let client: QueryClient;
  let stopAll: (() => void)[] = [];

  beforeEach(() => {
    (globalThis as { window?: unknown }).window = { location: { origin: 'http://dashboard.test' } };
    client = new QueryClient();
    mockSocket.listeners.clear();
    mockSocket.connected = false;
  });
  afterEach(() => {
    for (const stop of stopAll) stop();
    stopAll = [];
    client.clear();
  });

  const start = () => {
    const { RealtimeConnection } = load();
    const connection = new RealtimeConnection(client, () => undefined);
    stopAll.push(() => connection.stop());
    return connection;
  };

  it('refetches the account list on its first connect: a status sent before the socket joined reached no one', async () => {
    client.setQueryData(['accounts'], { items: [{ id: 'a1', status: 'syncing' }] });
    const connection = start();
    expect(client.getQueryState(['accounts'])?.isInvalidated).toBe(false);
    connection.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(client.getQueryState(['accounts'])?.isInvalidated).toBe(true);
  });

  it('invalidates the account list on a live account.status, before any reconnect', () => {
    const connection = start();
    connection.start();
    client.setQueryData(['accounts'], { items: [{ id: 'a1', status: 'syncing' }] });
    expect(client.getQueryState(['accounts'])?.isInvalidated).toBe(false);
    mockSocket.any?.('account.status', { accountId: 'a1', status: 'synced' });
    expect(client.getQueryState(['accounts'])?.isInvalidated).toBe(true);
  });
});
