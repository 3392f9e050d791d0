import * as fs from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { ownPid as kafkaPid, startLocal as startLocalKafka } from './kafka';
import { isPidAlive, pidCommandLine, run, sleep, waitFor, type Log } from './process';
import { checkRedisCluster, DEFAULT_REDIS_NODES, ownPid as redisPid, startNode } from './redis-cluster';
import { childPids, pgReplicaPid, restartPgPrimary, startPgReplica as startPgReplicaOf } from './pg-pair';
import { readState, STACK_DIR } from './state';
import type { HostPort, PgPairState } from './types';

/**
 * Real infrastructure faults for the fault suite (test/faults): SIGKILL this checkout's Kafka broker or a Redis
 * Cluster master and bring it back, restart the stack's PostgreSQL primary. They act only on what `stack:up`
 * started here (for Postgres: the checkout's own primary, or else the machine's local cluster) and refuse
 * anything else with a clear error: a fault test must never silently pass without its fault.
 */

const quietLog: Log = () => undefined;

async function waitGone(pid: number, what: string): Promise<void> {
  await waitFor(what, () => Promise.resolve(isPidAlive(pid) ? undefined : true), {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
}

/** This checkout's broker: from .stack/state.json, else the java process running its server.properties. */
function ownKafkaPid(): number | undefined {
  const known = kafkaPid(readState());
  if (known) return known;
  const props = path.join(STACK_DIR, 'kafka', 'server.properties');
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const cmd = pidCommandLine(pid);
    if (cmd.includes('kafka.Kafka') && cmd.includes(props)) return pid;
  }
  return undefined;
}

/** SIGKILLs the Kafka broker this checkout started; returns its pid. */
export async function killKafkaBroker(): Promise<number> {
  const pid = ownKafkaPid();
  if (!pid)
    throw new Error('fault: no Kafka broker started by this checkout is running (run `npm run stack:up`)');
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, `Kafka pid ${pid} to die`);
  return pid;
}

/** Starts the broker again on its data directory (after a kill) and waits until it answers. */
export async function startKafkaBroker(log: Log = quietLog): Promise<number> {
  await startLocalKafka(log);
  const pid = ownKafkaPid();
  if (!pid) throw new Error('fault: the Kafka broker did not come back');
  return pid;
}

/** The pair this checkout's `stack:up` runs (.stack/state.json), or a clear refusal. */
function ownPgPair(): PgPairState {
  const pair = readState().postgres?.pair;
  if (!pair) {
    throw new Error(
      "fault: this checkout's stack runs no PostgreSQL replica of its own (no pair in .stack/state.json; run `npm run stack:up`)",
    );
  }
  return pair;
}

/**
 * SIGKILLs the replica postmaster of the checkout's own pair (a crash: no shutdown checkpoint), waits until it and
 * its children (backends, walreceiver: they exit on their postmaster's death) are gone; returns its pid.
 */
export async function killPgReplica(): Promise<number> {
  const pair = ownPgPair();
  const pid = pgReplicaPid(pair);
  if (!pid)
    throw new Error(
      `fault: the stack's replica (${pair.replicaDir}) is not running (run \`npm run stack:up\`)`,
    );
  const children = childPids(pid);
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, `the replica's postmaster pid ${pid} to die`);
  for (const child of children) await waitGone(child, `the replica's process ${child} to exit`);
  return pid;
}

/** Starts the pair's replica again on its data directory (after a kill) and waits until it answers in recovery. */
export async function startPgReplica(log: Log = quietLog): Promise<void> {
  const pair = ownPgPair();
  const started = Date.now();
  await startPgReplicaOf(pair);
  log(`postgres: replica ${pair.replicaDir} in recovery again after ${Date.now() - started} ms`);
}

export interface RedisNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** for a replica, the id of its master */
  masterId?: string;
  /** for a master, its slot ranges */
  slots: Array<[number, number]>;
}

function node(port: number): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  return client;
}

/** The cluster's view (`CLUSTER NODES`) as seen by the first node that answers, failed nodes left out. */
export async function redisClusterNodes(nodes: HostPort[] = DEFAULT_REDIS_NODES): Promise<RedisNodeInfo[]> {
  for (const n of nodes) {
    const client = node(n.port);
    try {
      await client.connect();
      const text = String(await client.call('CLUSTER', 'NODES'));
      return text
        .split('\n')
        .filter((l) => l.trim() && !/\bfail\b/.test(l.split(' ')[2] ?? ''))
        .map((line) => {
          const [id, addr, flags, masterId, , , , , ...slots] = line.trim().split(' ');
          return {
            id,
            port: Number(addr.split('@')[0].split(':')[1]),
            role: flags.includes('master') ? ('master' as const) : ('replica' as const),
            masterId: masterId === '-' ? undefined : masterId,
            slots: slots
              .filter((s) => !s.startsWith('['))
              .map((s) => {
                const [a, b] = s.split('-').map(Number);
                return [a, b ?? a] as [number, number];
              }),
          };
        });
    } catch {
      // try the next node
    } finally {
      client.disconnect();
    }
  }
  throw new Error('fault: no Redis Cluster node answers');
}

/** The port of the master serving `slot` now. */
export async function redisMasterForSlot(slot: number): Promise<number> {
  const nodes = await redisClusterNodes();
  const master = nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b));
  if (!master) throw new Error(`fault: no master serves slot ${slot}`);
  return master.port;
}

/** SIGKILLs the Redis node on `port` (one this checkout started); returns its pid. */
export async function killRedisNode(port: number): Promise<number> {
  const pid = redisPid(readState(), port);
  if (!pid)
    throw new Error(
      `fault: no Redis node started by this checkout runs on ${port} (run \`npm run stack:up\`)`,
    );
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, `Redis pid ${pid} to die`);
  return pid;
}

/**
 * Waits until the surviving nodes report a healthy cluster again (a replica promoted in place of the dead
 * master): every slot served. Returns the milliseconds it took.
 */
export async function waitRedisFailover(deadPort: number, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  const alive = DEFAULT_REDIS_NODES.filter((n) => n.port !== deadPort);
  await waitFor(
    'the Redis Cluster to fail over',
    async () => {
      const h = await checkRedisCluster(alive);
      if (!h.healthy) throw new Error(h.detail);
      const masters = (await redisClusterNodes(alive)).filter((n) => n.role === 'master');
      return masters.every((m) => m.port !== deadPort) && masters.length === 3 ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
  return Date.now() - started;
}

/** Restarts a killed node with its nodes.conf, so it rejoins (as a replica of whoever took its slots). */
export async function restartRedisNode(port: number): Promise<number> {
  const pid = await startNode(port, { rejoin: true });
  await waitFor(
    'the Redis Cluster to be whole again',
    async () => {
      const h = await checkRedisCluster(DEFAULT_REDIS_NODES);
      if (!h.healthy) throw new Error(h.detail);
      const nodes = await redisClusterNodes();
      return nodes.length === DEFAULT_REDIS_NODES.length ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );
  return pid;
}

/**
 * The stack's Postgres stopped for `downMs` and started again: the checkout's own primary (pg_ctl stop -m fast,
 * the hot standby reconnects by itself) when `stack:up` runs the pair, else the machine's local cluster on 5432
 * (pg_ctlcluster). `description` says which, for the scenario's record.
 */
export async function restartPostgres(
  downMs: number,
): Promise<{ version: string; name: string; description: string }> {
  const pair = readState().postgres?.pair;
  if (pair) {
    await restartPgPrimary(pair, downMs);
    const version = path.basename(path.dirname(pair.binDir));
    return {
      version,
      name: 'primary',
      description: `the stack's PostgreSQL ${version} primary on 127.0.0.1:${pair.primaryPort} (pg_ctl stop -m fast)`,
    };
  }
  const list = await run('pg_lsclusters', ['--no-header'], { timeoutMs: 10_000 });
  const line = list.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => cols[2] === '5432');
  if (list.code !== 0 || !line)
    throw new Error(`fault: no local PostgreSQL cluster on 5432 (pg_lsclusters: ${list.stderr.trim()})`);
  const [version, name] = line;
  const ctl = async (action: string) => {
    const r = await run(
      'pg_ctlcluster',
      ['--skip-systemctl-redirect', ...(action === 'stop' ? ['--mode', 'fast'] : []), version, name, action],
      {
        timeoutMs: 60_000,
      },
    );
    if (r.code !== 0 && !(action === 'start' && /already running/.test(r.stderr)))
      throw new Error(`fault: pg_ctlcluster ${version} ${name} ${action}: ${(r.stderr || r.stdout).trim()}`);
  };
  await ctl('stop');
  await sleep(downMs);
  await ctl('start');
  return { version, name, description: `pg_ctlcluster ${version} ${name}` };
}
