import { callersOf, packageOf, summarize, type CpuProfile } from './cpu-profile';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: id },
  children,
});

/**
 * (root) -> round (consumer bundle) -> query (pg) -> submit (pg) -> writev (native)
 *                                   -> send (ioredis) -> writev (native)
 *        -> (idle)
 */
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 8]),
    frame(2, 'round', 'file:///srv/dist/apps/consumer/main.js', [3, 6]),
    frame(3, 'query', 'file:///srv/node_modules/pg/lib/client.js', [4]),
    frame(4, 'submit', 'file:///srv/node_modules/pg/lib/query.js', [5]),
    frame(5, 'writev', ''),
    frame(6, 'send', 'file:///srv/node_modules/ioredis/built/Redis.js', [7]),
    frame(7, 'writev', ''),
    frame(8, '(idle)', ''),
  ],
  // writev under pg 4 times, under ioredis twice, the round itself twice, idle twice
  samples: [5, 5, 5, 5, 7, 7, 2, 2, 8, 8],
  startTime: 0,
  endTime: 2_000_000,
};

describe('npm run profile:summary (a V8 CPU profile as text)', () => {
  it('names the package of a frame: node_modules packages, Node built-ins, our bundles; native frames have none', () => {
    expect(packageOf('file:///x/node_modules/@nestjs/core/router/a.js')).toBe('@nestjs/core');
    expect(packageOf('file:///x/node_modules/pg/lib/client.js')).toBe('pg');
    expect(packageOf('node:internal/streams/writable')).toBe('node:internal');
    expect(packageOf('file:///x/dist/apps/consumer/main.js')).toBe('dist/apps/consumer');
    expect(packageOf('')).toBeUndefined();
  });

  it('counts self time by package and function, and inclusive time once per package on a stack', () => {
    const s = summarize(profile);
    expect(s.samples).toBe(10);
    expect(s.seconds).toBe(2);
    // native frames count under their own name
    expect(s.selfByPackage).toEqual([
      { name: 'writev', samples: 6, share: 0.6 },
      { name: '(idle)', samples: 2, share: 0.2 },
      { name: 'dist/apps/consumer', samples: 2, share: 0.2 },
    ]);
    expect(s.inclusiveByPackage).toEqual([
      { name: 'dist/apps/consumer', samples: 8, share: 0.8 },
      { name: 'pg', samples: 4, share: 0.4 },
      { name: 'ioredis', samples: 2, share: 0.2 },
    ]);
    expect(s.selfByFunction[0]).toEqual({ name: 'writev (native):5', samples: 4, share: 0.4 });
  });

  it('tells who calls a native frame, nearest frames first', () => {
    expect(callersOf(profile, 'writev')).toEqual([
      {
        name: 'submit pg:4 < query pg:3 < round dist/apps/consumer:2',
        samples: 4,
        share: 0.4,
      },
      { name: 'send ioredis:6 < round dist/apps/consumer:2', samples: 2, share: 0.2 },
    ]);
    expect(callersOf(profile, 'nothing')).toEqual([]);
  });
});
