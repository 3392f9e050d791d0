import { GraphMailClient } from './graph-mail-client';
import type { GraphRequestObserver } from './graph-request-observer';
import { KeyedSemaphore } from './keyed-semaphore';

const BASE = 'https://graph.test:8443';

function recorder() {
  const seen = { answered: [] as number[], failed: 0, waits: [] as number[], inFlight: [] as number[] };
  const observer: GraphRequestObserver = {
    answered: (status) => seen.answered.push(status),
    failed: () => (seen.failed += 1),
    retryWait: (seconds) => seen.waits.push(seconds),
    started: (n) => seen.inFlight.push(n),
  };
  return { seen, observer };
}

const me = () =>
  new Response(JSON.stringify({ id: 'u1', displayName: 'U', mail: 'u@x', userPrincipalName: 'u@x' }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
const throttled = (retryAfter: string) =>
  new Response(JSON.stringify({ error: { code: 'TooManyRequests', message: 'slow down' } }), {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after': retryAfter },
  });

describe('GraphMailClient → GraphRequestObserver', () => {
  it('tells every attempt’s status, each Retry-After wait in seconds, and the in-flight count at each start', async () => {
    const { seen, observer } = recorder();
    let n = 0;
    const graph = new GraphMailClient({
      graphBaseUrl: BASE,
      mailboxKey: 'acct-1',
      getAccessToken: () => Promise.resolve('t'),
      fetch: () => Promise.resolve(++n <= 2 ? throttled(n === 1 ? '2' : '0.5') : me()),
      sleep: () => Promise.resolve(),
      observer,
    });
    await graph.me();
    expect(seen.answered).toEqual([429, 429, 200]);
    expect(seen.waits).toEqual([2, 0.5]);
    expect(seen.inFlight).toEqual([1, 1, 1]);
    expect(seen.failed).toBe(0);
  });

  it('counts the requests of one mailbox in flight together (never which mailbox), and failed exchanges', async () => {
    const { seen, observer } = recorder();
    const limiter = new KeyedSemaphore(4);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const graph = new GraphMailClient({
      graphBaseUrl: BASE,
      mailboxKey: 'acct-2',
      limiter,
      getAccessToken: () => Promise.resolve('t'),
      fetch: async () => {
        await gate;
        return me();
      },
      observer,
    });
    const calls = Promise.all([graph.me(), graph.me(), graph.me()]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await calls;
    // the three hold a permit of the mailbox together: each start sees all three in flight
    expect(seen.inFlight).toEqual([3, 3, 3]);
    await graph.me();
    expect(seen.inFlight).toEqual([3, 3, 3, 1]);

    const failing = new GraphMailClient({
      graphBaseUrl: BASE,
      mailboxKey: 'acct-3',
      getAccessToken: () => Promise.resolve('t'),
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      sleep: () => Promise.resolve(),
      retry: { maxAttempts: 2 },
      observer,
    });
    await expect(failing.me()).rejects.toThrow();
    expect(seen.failed).toBe(2);
  });
});
