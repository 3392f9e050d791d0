import type { Cluster } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AccountCacheVersion } from './account-cache-version';

/** A primary whose WAL position is 0/3000000 (50,331,648 bytes), or that fails when `down` */
function fakeDb(down = false): DataSource {
  return {
    query: () => (down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve([{ lsn: '0/3000000' }])),
  } as unknown as DataSource;
}

/** A Cluster whose pipeline answers from a script: each exec takes the next answer. */
function fakeRedis(answers: Array<Array<[Error | null, unknown]> | Error>) {
  const calls: string[][] = [];
  const redis = {
    pipeline() {
      const cmds: string[] = [];
      const p = {
        eval(_script: string, _n: number, ...args: string[]) {
          cmds.push(`EVAL ${args.join(' ')}`);
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
  it('records the WAL watermark and INCRs the version in one script, then WAITs for a replica, in one pipeline', async () => {
    const { redis, calls } = fakeRedis([]);
    const version = new AccountCacheVersion(redis, fakeDb());
    await version.bump('a1');
    expect(calls).toEqual([['EVAL {acct:a1}:v {acct:a1}:wal 50331648', 'WAIT 1 200']]);
    expect(version.pending()).toBe(0);
  });

  it('bumps the version even when the WAL position cannot be read, and owes the watermark', async () => {
    const { redis, calls } = fakeRedis([]);
    const version = new AccountCacheVersion(redis, fakeDb(true));
    await version.bump('a1');
    expect(calls).toEqual([['EVAL {acct:a1}:v {acct:a1}:wal ', 'WAIT 1 200']]);
    expect(version.pending()).toBe(1);
    version.onApplicationShutdown();
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
    const version = new AccountCacheVersion(redis, fakeDb());
    await version.bump('a1'); // fails: owed, never thrown
    expect(version.pending()).toBe(1);
    await tick(1300); // the retries: not replicated, then replicated
    expect(calls).toHaveLength(3);
    expect(version.pending()).toBe(0);
    version.onApplicationShutdown();
  });
});
