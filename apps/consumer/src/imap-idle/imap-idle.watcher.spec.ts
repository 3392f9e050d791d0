import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { Topics, type DomainEvent } from '@email-core/contracts';
import { partitionOfKey } from '@email-core/kafka';
import {
  ProviderUnavailableError,
  ReauthRequiredError,
  type FolderStatuses,
  type ImapAccountSettings,
  type ImapIdleOptions,
  type ProviderRegistry,
} from '@email-core/providers';
import type { DomainEventsPublisher } from '../messaging/domain-events.publisher';
import type { KafkaTopics } from '../messaging/kafka-topics';
import { PartitionAssignments } from '../messaging/partition-assignments';
import type { IdlePokes } from './idle-pokes';
import type { ImapAccounts, WatchedImapAccount } from './imap-accounts';
import type { IdleConnectionHandle, ImapIdleSettings, ImapWatchDriver } from './imap-idle.settings';
import { ImapIdleWatcher } from './imap-idle.watcher';
import type { CoalescedPoke } from './poke-coalescer';

const PARTITIONS = 3;
const ids = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'].map((s) => `00000000-0000-4000-8000-0000000000${s}`);

const settingsOf = (id: string): ImapAccountSettings => {
  const server = { host: 'imap.example', port: 993, security: 'tls' as const, username: id, password: 'pw' };
  return { email: `${id}@example.com`, imap: server, smtp: { ...server, port: 465 } };
};

interface FakeConnection extends IdleConnectionHandle {
  id: string;
  options: ImapIdleOptions;
  drop(err: Error): void;
  closed: boolean;
}

const until = async (probe: () => boolean, what: string, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('ImapIdleWatcher', () => {
  let accounts: WatchedImapAccount[];
  let assignments: PartitionAssignments;
  let pokes: Array<{ accountId: string; poke: CoalescedPoke }>;
  let connections: FakeConnection[];
  let refuse: Map<string, Error>;
  let polls: string[];
  /** accounts whose fake connection has NOTIFY */
  let notify: Set<string>;
  let watcher: ImapIdleWatcher;
  /** the in-process listeners of the domain events publisher */
  let listeners: Array<(event: DomainEvent) => void>;
  const events = {
    onPublished: (listener: (event: DomainEvent) => void) => {
      listeners.push(listener);
      return () => (listeners = listeners.filter((l) => l !== listener));
    },
  };

  const build = (overrides: Partial<ImapIdleSettings> = {}) => {
    const settings: ImapIdleSettings = {
      enabled: true,
      maxConnections: 10,
      statusPollMs: 60_000,
      accountsRefreshMs: 60_000,
      coalesceQuietMs: 1,
      coalesceMaxDelayMs: 5,
      reconnectBaseMs: 10,
      reconnectMaxMs: 20,
      pollConcurrency: 2,
      ...overrides,
    };
    const driver: ImapWatchDriver = {
      start: (options) => {
        const id = options.server.username;
        const refused = refuse.get(id);
        if (refused) return Promise.reject(refused);
        let settle!: (reason: Error | undefined) => void;
        const ended = new Promise<Error | undefined>((resolve) => (settle = resolve));
        const connection: FakeConnection = {
          id,
          options,
          ended,
          notifying: notify.has(id),
          closed: false,
          drop: (err) => settle(err),
          close: () => {
            connection.closed = true;
            settle(undefined);
            return Promise.resolve();
          },
        };
        connections.push(connection);
        return Promise.resolve(connection);
      },
      poll: (server) => {
        polls.push(server.username);
        const refused = refuse.get(server.username);
        if (refused) return Promise.reject(refused);
        const statuses: FolderStatuses = new Map([['INBOX', `${polls.length}`]]);
        return Promise.resolve(statuses);
      },
    };
    const registry = {
      adapter: () => ({
        vault: { credentialFor: (id: string) => Promise.resolve(JSON.stringify(settingsOf(id))) },
      }),
    } as unknown as ProviderRegistry;
    const kafka = {
      admin: () => ({
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
          Promise.resolve({
            topics: topics.map((name) => ({
              name,
              partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionId: i })),
            })),
          }),
      }),
    } as unknown as Kafka;
    const topics = {
      name: (t: string) => `test.${t}`,
      ready: () => Promise.resolve(true),
    } as unknown as KafkaTopics;
    const imapAccounts = { linked: () => Promise.resolve([...accounts]) } as unknown as ImapAccounts;
    const idlePokes = {
      publish: (accountId: string, poke: CoalescedPoke) => pokes.push({ accountId, poke }),
      drain: () => Promise.resolve(),
    } as unknown as IdlePokes;
    const config = { imap: { allowPrivateHosts: false } } as ConsumerConfig;
    watcher = new ImapIdleWatcher(
      settings,
      config,
      kafka,
      topics,
      assignments,
      registry,
      imapAccounts,
      idlePokes,
      driver,
      events as unknown as DomainEventsPublisher,
    );
    return watcher;
  };

  const open = (id: string) => connections.filter((c) => c.id === id && !c.closed);

  beforeEach(() => {
    accounts = ids.map((id) => ({ id, credentialTag: `tag-${id}` }));
    assignments = new PartitionAssignments();
    pokes = [];
    connections = [];
    refuse = new Map();
    polls = [];
    notify = new Set();
    listeners = [];
  });

  afterEach(async () => {
    await watcher?.onModuleDestroy();
  });

  it('watches nothing before the pokes consumer has partitions, then every account of its partitions', async () => {
    build();
    await watcher.refresh();
    expect(connections).toHaveLength(0);

    const mine = new Set([0, 2]);
    assignments.update(Topics.mailboxPokes, [...mine]);
    await watcher.refresh();
    const owned = ids.filter((id) => mine.has(partitionOfKey(id, PARTITIONS)));
    expect(owned.length).toBeGreaterThan(0);
    expect(watcher.state().idle.sort()).toEqual([...owned].sort());
    await until(() => watcher.state().connected.length === owned.length, 'the connections');
    // each connect pokes every folder (what happened while nobody watched)
    await until(() => pokes.length === owned.length, 'the connect pokes');
    expect(pokes.every((p) => p.poke.everyFolder)).toBe(true);

    // the partitions move away: every connection is closed
    assignments.update(Topics.mailboxPokes, []);
    await watcher.refresh();
    expect(watcher.state().idle).toEqual([]);
    expect(connections.every((c) => c.closed)).toBe(true);
  });

  it('takes an account whose sync completed in this process at once, not at the next periodic read', async () => {
    const linked = accounts;
    accounts = [];
    build();
    watcher.onApplicationBootstrap();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    expect(watcher.state().idle).toEqual([]);
    accounts = linked.slice(0, 1); // linked meanwhile; the periodic read is a minute away
    const completed = (accountId: string): DomainEvent => ({
      type: 'sync.completed',
      v: 1,
      accountId,
      userId: '00000000-0000-4000-8000-000000000099',
      folders: 1,
      messages: 1,
      at: new Date().toISOString(),
    });
    for (const listener of listeners) listener(completed(ids[0]));
    await until(() => watcher.state().connected.includes(ids[0]), 'the new account watched');
    // a watched account's next sync.completed reads nothing again
    const before = connections.length;
    for (const listener of listeners) listener(completed(ids[0]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connections).toHaveLength(before);
  });

  it('reports IDLE changes as coalesced pokes naming their folder', async () => {
    accounts = accounts.slice(0, 1);
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await until(() => pokes.length === 1, 'the connect poke');
    const [connection] = connections;
    for (let i = 0; i < 200; i++) connection.options.onChange({ kind: 'created', folder: 'INBOX' });
    connection.options.onChange({ kind: 'updated', folder: 'INBOX' });
    await until(() => pokes.length === 2, 'the burst poke');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(pokes).toHaveLength(2);
    expect(pokes[1]).toEqual({
      accountId: ids[0],
      poke: {
        changes: [
          { kind: 'created', folderId: 'INBOX' },
          { kind: 'updated', folderId: 'INBOX' },
        ],
        everyFolder: false,
      },
    });
  });

  it('tells the connections with NOTIFY apart, and reports their folders’ changes like IDLE ones', async () => {
    accounts = accounts.slice(0, 2);
    notify = new Set([ids[0]]);
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await until(() => watcher.state().connected.length === 2, 'the connections');
    expect(watcher.state().notifying).toEqual([ids[0]]);
    await until(() => pokes.length === 2, 'the connect pokes');
    const withNotify = connections.find((c) => c.id === ids[0]);
    // a NOTIFY STATUS of Archive, while the INBOX IDLE reports a flag
    withNotify?.options.onChange({ kind: 'updated', folder: 'Archive' });
    withNotify?.options.onChange({ kind: 'updated', folder: 'INBOX' });
    await until(() => pokes.length === 3, 'the poke');
    expect(pokes[2]).toEqual({
      accountId: ids[0],
      poke: {
        changes: [
          { kind: 'updated', folderId: 'Archive' },
          { kind: 'updated', folderId: 'INBOX' },
        ],
        everyFolder: false,
      },
    });
  });

  it('keeps at most maxConnections IDLE connections and polls the other accounts', async () => {
    build({ maxConnections: 2 });
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    const state = watcher.state();
    expect(state.idle).toHaveLength(2);
    expect(state.polled).toHaveLength(ids.length - 2);
    await watcher.pollNow();
    expect(polls.sort()).toEqual([...state.polled].sort());
    // the first poll of an account catches up every folder; a changed STATUS later names its folder
    await until(() => pokes.filter((p) => state.polled.includes(p.accountId)).length === 4, 'first polls');
    pokes = [];
    await watcher.pollNow();
    await until(() => pokes.length === 4, 'second polls');
    expect(pokes.every((p) => p.poke.changes[0]?.folderId === 'INBOX' && !p.poke.everyFolder)).toBe(true);
  });

  it('reconnects a lost connection after a backoff, and pokes every folder again', async () => {
    accounts = accounts.slice(0, 1);
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await until(() => pokes.length === 1, 'the connect poke');
    connections[0].drop(new ProviderUnavailableError(0, 'ECONNRESET', 'socket hang up'));
    await until(() => open(ids[0]).length === 2, 'the reconnect', 1000);
    await until(() => pokes.length === 2, 'the reconnect poke');
    expect(pokes[1].poke.everyFolder).toBe(true);
  });

  it('retries a server out of reach with growing waits', async () => {
    accounts = accounts.slice(0, 1);
    refuse.set(ids[0], new ProviderUnavailableError(0, 'ECONNREFUSED', 'connection refused'));
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(watcher.state().idle).toEqual([ids[0]]);
    refuse.delete(ids[0]);
    await until(() => watcher.state().connected.length === 1, 'the connection once the server answers');
  });

  it('after a refused login: one poke (the round marks the account), no reconnect, until it is linked again', async () => {
    accounts = accounts.slice(0, 1);
    refuse.set(ids[0], new ReauthRequiredError('the mail server refused the login', 'AUTHENTICATIONFAILED'));
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await until(() => pokes.length === 1, 'the poke of the refused login');
    expect(pokes[0].poke.everyFolder).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await watcher.refresh();
    expect(watcher.state()).toMatchObject({ idle: [], polled: [], halted: [ids[0]] });
    expect(pokes).toHaveLength(1);

    // linked again: new sealed settings, a new tag
    refuse.delete(ids[0]);
    accounts = [{ id: ids[0], credentialTag: 'relinked' }];
    await watcher.refresh();
    await until(() => watcher.state().connected.length === 1, 'the connection after the re-link');
    expect(watcher.state().halted).toEqual([]);
  });

  it('closes every connection on module destroy', async () => {
    build();
    assignments.update(Topics.mailboxPokes, [0, 1, 2]);
    await watcher.refresh();
    await until(() => watcher.state().connected.length === ids.length, 'the connections');
    await watcher.onModuleDestroy();
    expect(connections.every((c) => c.closed)).toBe(true);
    expect(watcher.state().idle).toEqual([]);
  });
});
