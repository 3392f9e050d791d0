import * as fs from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { composeUp, dockerAvailable } from './docker';
import {
  commandExists,
  errorMessage,
  isPidAlive,
  pidCommandLine,
  run,
  sleep,
  tailFile,
  tcpAnswers,
  terminate,
  waitFor,
  type Log,
} from './process';
import { StackUnavailableError, type ServiceHealth, type ServiceUp } from './service';
import { STACK_DIR, parseHostPorts, readState, rel, updateState, type StackState } from './state';
import type { HostPort } from './types';

const HOST = '127.0.0.1';
const PORTS = [7000, 7001, 7002, 7003, 7004, 7005];
export const DEFAULT_REDIS_NODES: HostPort[] = PORTS.map((port) => ({ host: HOST, port }));
const DIR = path.join(STACK_DIR, 'redis');
const nodeDir = (port: number): string => path.join(DIR, String(port));
const fmt = (nodes: HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');

/** One command on one node with short timeouts and no retries. */
async function redisCall(node: HostPort, args: string[], timeoutMs = 2000): Promise<string> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.call(args[0], ...args.slice(1));
    return String(res);
  } finally {
    client.disconnect();
  }
}

async function clusterInfo(node: HostPort): Promise<Map<string, string>> {
  const text = await redisCall(node, ['CLUSTER', 'INFO']);
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return map;
}

/** Healthy when every node reports cluster_state:ok with all 16384 slots assigned and ok. */
export async function checkRedisCluster(nodes: HostPort[]): Promise<ServiceHealth> {
  let masters = 0;
  for (const node of nodes) {
    let info: Map<string, string>;
    try {
      info = await clusterInfo(node);
    } catch (err) {
      return { healthy: false, detail: `${node.host}:${node.port}: ${errorMessage(err)}` };
    }
    const state = info.get('cluster_state');
    const assigned = info.get('cluster_slots_assigned');
    const ok = info.get('cluster_slots_ok');
    if (state !== 'ok' || assigned !== '16384' || ok !== '16384') {
      return {
        healthy: false,
        detail: `${node.host}:${node.port}: cluster_state:${state ?? '?'} slots assigned ${assigned ?? '?'} ok ${ok ?? '?'}`,
      };
    }
    masters = Number(info.get('cluster_size') ?? 0);
  }
  return { healthy: true, detail: `cluster_state:ok, ${masters} masters, ${nodes.length} nodes checked` };
}

function waitHealthy(nodes: HostPort[], timeoutMs: number): Promise<string> {
  return waitFor(
    `Redis Cluster ${fmt(nodes)}`,
    async () => {
      const h = await checkRedisCluster(nodes);
      if (!h.healthy) throw new Error(h.detail);
      return h.detail;
    },
    { timeoutMs },
  );
}

/** Pid of the node on `port` that this checkout started, if it is still that process. */
export function ownPid(state: StackState, port: number): number | undefined {
  const pid = state.redis?.pids[String(port)];
  if (!pid || !isPidAlive(pid)) return undefined;
  const cmd = pidCommandLine(pid);
  return cmd === '' || (cmd.includes('redis-server') && cmd.includes(`:${port}`)) ? pid : undefined;
}

async function stopNode(port: number, pid: number): Promise<void> {
  await run('redis-cli', ['-h', HOST, '-p', String(port), 'shutdown', 'nosave'], { timeoutMs: 5000 });
  for (let i = 0; i < 50 && isPidAlive(pid); i++) await sleep(100);
  if (isPidAlive(pid)) await terminate(pid, 5000);
}

/**
 * Starts the node on `port`. A fresh node (`--cluster create` needs its nodes.conf empty) by default; with
 * `rejoin`, it keeps its nodes.conf and so comes back as the member it was (the fault suite's restart).
 */
export async function startNode(port: number, opts: { rejoin?: boolean } = {}): Promise<number> {
  const dir = nodeDir(port);
  fs.mkdirSync(dir, { recursive: true });
  if (!opts.rejoin) {
    fs.rmSync(path.join(dir, 'nodes.conf'), { force: true });
    // a replica's full resync leaves the master's data in dump.rdb (even with `save ''`), which a fresh node
    // would load, and `--cluster create` refuses a node holding keys (seen after the fault suite's failover)
    fs.rmSync(path.join(dir, 'dump.rdb'), { force: true });
  }
  const pidFile = path.join(dir, 'redis.pid');
  fs.rmSync(pidFile, { force: true });
  // prettier-ignore
  const args = [
    '--port', String(port), '--bind', HOST, '--cluster-enabled', 'yes',
    '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '5000',
    '--appendonly', 'no', '--save', '', '--dir', dir, '--daemonize', 'yes',
    '--logfile', path.join(dir, 'redis.log'), '--pidfile', pidFile,
  ];
  const r = await run('redis-server', args, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`redis: node ${port} failed to start: ${(r.stderr || r.stdout).trim()}`);
  const pid = await waitFor(
    `redis node ${port} pid file`,
    () =>
      Promise.resolve(
        fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) || undefined : undefined,
      ),
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  updateState((s) => {
    s.redis = { pids: { ...(s.redis?.pids ?? {}), [String(port)]: pid } };
  });
  return pid;
}

async function createCluster(log: Log): Promise<void> {
  log('redis: creating cluster (3 masters, 1 replica each)');
  const addrs = DEFAULT_REDIS_NODES.map((n) => `${n.host}:${n.port}`);
  const r = await run(
    'redis-cli',
    ['--cluster', 'create', ...addrs, '--cluster-replicas', '1', '--cluster-yes'],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0)
    throw new Error(`redis-cli --cluster create failed:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
}

async function startLocal(log: Log): Promise<ServiceUp<HostPort[]>> {
  if (!commandExists('redis-server') || !commandExists('redis-cli')) {
    throw new StackUnavailableError(
      'Redis: nothing answers on 127.0.0.1:7000-7005 and no Docker engine. Install it (apt-get install redis-server), start Docker, or set REDIS_CLUSTER_NODES.',
    );
  }
  const pids: number[] = [];
  for (const port of PORTS) pids.push(await startNode(port));
  try {
    for (const node of DEFAULT_REDIS_NODES) {
      await waitFor(
        `redis node ${node.port}`,
        async () => ((await redisCall(node, ['PING'])) === 'PONG' ? true : undefined),
        { timeoutMs: 10_000 },
      );
    }
    await createCluster(log);
    await waitHealthy(DEFAULT_REDIS_NODES, 60_000);
  } catch (err) {
    throw new Error(
      `${errorMessage(err)}\n--- tail of ${rel(path.join(nodeDir(PORTS[0]), 'redis.log'))} ---\n${tailFile(path.join(nodeDir(PORTS[0]), 'redis.log'), 20)}`,
    );
  }
  return {
    endpoint: DEFAULT_REDIS_NODES,
    source: 'local-started',
    detail: `pids ${pids.join(',')}  (${rel(DIR)}/<port>/redis.log)`,
  };
}

export async function ensureRedisCluster(log: Log): Promise<ServiceUp<HostPort[]>> {
  const fromEnv = process.env.REDIS_CLUSTER_NODES;
  if (fromEnv) {
    const nodes = parseHostPorts(fromEnv);
    await waitHealthy(nodes, 60_000);
    return { endpoint: nodes, source: 'env', detail: 'from REDIS_CLUSTER_NODES' };
  }

  const state = readState();
  const own = new Map<number, number>();
  for (const port of PORTS) {
    const pid = ownPid(state, port);
    if (pid) own.set(port, pid);
  }
  const answering: number[] = [];
  for (const port of PORTS) if (await tcpAnswers(HOST, port)) answering.push(port);

  if (answering.length === PORTS.length) {
    const ours = own.size === PORTS.length;
    const docker = state.dockerComposeFiles?.some((f) => f.endsWith('docker-compose.redis.yml'));
    try {
      const detail = await waitHealthy(DEFAULT_REDIS_NODES, ours || docker ? 20_000 : 5_000);
      const source = ours ? 'local-started' : docker ? 'docker' : 'local-existing';
      return {
        endpoint: DEFAULT_REDIS_NODES,
        source,
        detail: `${ours ? `pids ${[...own.values()].join(',')}  ` : ''}reused (${detail})`,
      };
    } catch (err) {
      if (!ours) {
        throw new Error(
          `redis: 127.0.0.1:7000-7005 answer but are not a healthy cluster, and this checkout did not start them (${errorMessage(err)}). ` +
            'Stop them or set REDIS_CLUSTER_NODES.',
        );
      }
      log('redis: our nodes run but the cluster is not healthy; restarting them fresh');
    }
  }

  const foreign = answering.filter((p) => !own.has(p));
  if (foreign.length > 0) {
    throw new Error(
      `redis: port(s) ${foreign.join(',')} are in use by processes this checkout did not start; stop them or set REDIS_CLUSTER_NODES.`,
    );
  }
  for (const [port, pid] of own) await stopNode(port, pid);
  if (state.redis) {
    updateState((s) => {
      delete s.redis;
    });
  }

  if (await dockerAvailable()) {
    log('redis: starting docker-compose.redis.yml');
    await composeUp('docker-compose.redis.yml');
    await waitHealthy(DEFAULT_REDIS_NODES, 120_000);
    return {
      endpoint: DEFAULT_REDIS_NODES,
      source: 'docker',
      detail: 'docker compose -f docker-compose.redis.yml',
    };
  }
  return startLocal(log);
}

/** Stops the nodes this checkout started (`redis-cli shutdown nosave`, then signals). */
export async function stopRedisCluster(state: StackState): Promise<string | undefined> {
  if (!state.redis) return undefined;
  const stopped: number[] = [];
  for (const port of Object.keys(state.redis.pids).map(Number)) {
    const pid = ownPid(state, port);
    if (!pid) continue;
    await stopNode(port, pid);
    if (isPidAlive(pid)) throw new Error(`redis: node ${port} (pid ${pid}) did not exit`);
    stopped.push(port);
  }
  return stopped.length ? `redis nodes ${stopped.join(',')}` : 'redis (nodes were already gone)';
}
