import type { Cluster } from 'ioredis';
import { AccountCacheVersion } from './account-cache-version';

/** A Cluster whose pipeline answers from a script: each exec takes the next answer. */
function fakeRedis(answers: Array<Array<[Error | null, unknown]> | Error>) {
  const calls: string[][] = [];
  const redis = {
    pipeline() {
      const cmds: string[] = [];
      const p = {
        incr(key: string) {
          cmds.push(`INCR ${key}`);
          return p;
        },
        call(...args: string[]) {
          cmds.push(args.join(' '));
          return p;
        },
        exec() {
          calls.push(cmds);
          const next = answers.shift() ?? [
            [null, 1],
            [null, 1],
          ];
          return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
        },
      };
      return p;
    },
  };
  return { redis: redis as unknown as Cluster, calls };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AccountCacheVersion', () => {
  it('INCRs the account version and WAITs for a replica in one pipeline', async () => {
    const { redis, calls } = fakeRedis([]);
    const version = new AccountCacheVersion(redis);
    await version.bump('a1');
    expect(calls).toEqual([['INCR {acct:a1}:v', 'WAIT 1 200']]);
    expect(version.pending()).toBe(0);
  });

  it('owes a bump that failed or reached no replica, and retries it in the background until it lands', async () => {
    const { redis, calls } = fakeRedis([
      new Error('CLUSTERDOWN'),
      [
        [null, 7],
        [null, 0],
      ],
      [
        [null, 8],
        [null, 1],
      ],
    ]);
    const version = new AccountCacheVersion(redis);
    await version.bump('a1'); // fails: owed, never thrown
    expect(version.pending()).toBe(1);
    await tick(1300); // the retries: not replicated, then replicated
    expect(calls).toHaveLength(3);
    expect(version.pending()).toBe(0);
    version.onApplicationShutdown();
  });
});
