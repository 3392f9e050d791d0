import type { Cluster } from 'ioredis';

export interface RedisProbeResult {
  state: string;
  masters: number;
  slotsOk: number;
}

/** Reads `CLUSTER INFO` through the cluster client, failing within `timeoutMs`. */
export async function probeRedisCluster(cluster: Cluster, timeoutMs: number): Promise<RedisProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis Cluster did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  const info = await Promise.race([cluster.cluster('INFO'), timeout]).finally(() => clearTimeout(timer));
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  const result = {
    state: field('cluster_state'),
    masters: Number(field('cluster_size')),
    slotsOk: Number(field('cluster_slots_ok')),
  };
  if (result.state !== 'ok') throw new Error(`Redis Cluster state is "${result.state}"`);
  return result;
}
