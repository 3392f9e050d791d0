import type { Cluster } from 'ioredis';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import type { ProducerConfig } from '@email-core/config';
import { currentTestRun } from '@email-core/testing';
import { CodeStore, MAX_CODE_TRIES } from './code-store';
import { CodeMac, codeSubjectKey, newOneTimeCode, normalizeCode } from './one-time-code';

describe('CodeStore (real Redis Cluster)', () => {
  const run = currentTestRun();
  const secret = 'a-test-secret-that-is-long-enough-0123456789';
  let cluster: Cluster;
  let store: CodeStore;
  const address = () => `u-${Math.random().toString(36).slice(2)}@example.com`;

  beforeAll(() => {
    cluster = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
    store = new CodeStore(cluster, { jwtSecret: secret } as ProducerConfig);
  });
  afterAll(() => cluster.quit());

  it('stores only an HMAC of the code, bound to purpose and address, with the TTL', async () => {
    const email = address();
    await store.issue('sign-in', email, '123456', 600);
    const key = CacheKeys.oneTimeCode('sign-in', codeSubjectKey(email));
    const stored = await cluster.hgetall(key);
    expect(stored.mac).toBe(new CodeMac(secret).mac('sign-in', email, '123456'));
    expect(JSON.stringify(stored)).not.toContain('123456');
    expect(JSON.stringify(stored)).not.toContain(email);
    expect(Number(stored.exp) - Date.now()).toBeGreaterThan(595_000);
    // the key outlives the code a little, to tell an expired code from none
    expect(await cluster.pttl(key)).toBeGreaterThan(600_000);
    // the MAC is bound to purpose and subject
    const macs = new CodeMac(secret);
    expect(macs.mac('sign-in', email, '123456')).not.toBe(macs.mac('verify-email', email, '123456'));
    expect(macs.mac('sign-in', email, '123456')).not.toBe(macs.mac('sign-in', `x${email}`, '123456'));
  });

  it('accepts the right code once; a used code never works again', async () => {
    const email = address();
    await store.issue('sign-in', email, '000042', 600);
    expect(await store.check('sign-in', email, '000042')).toBe('ok');
    expect(await store.check('sign-in', email, '000042')).toBe('invalid');
  });

  it('a code for another address, or another purpose, never works', async () => {
    const a = address();
    const b = address();
    await store.issue('sign-in', a, '111111', 600);
    expect(await store.check('sign-in', b, '111111')).toBe('invalid');
    expect(await store.check('verify-email', a, '111111')).toBe('invalid');
    expect(await store.check('sign-in', a, '111111')).toBe('ok');
  });

  it('a new code replaces the old one (and its tries)', async () => {
    const email = address();
    await store.issue('sign-in', email, '222222', 600);
    expect(await store.check('sign-in', email, '999999')).toBe('invalid');
    await store.issue('sign-in', email, '333333', 600);
    expect(await store.check('sign-in', email, '222222')).toBe('invalid');
    expect(await store.check('sign-in', email, '333333')).toBe('ok');
  });

  it(`${MAX_CODE_TRIES} wrong tries burn the code, even for the right one after`, async () => {
    const email = address();
    await store.issue('sign-in', email, '444444', 600);
    const answers = [];
    for (let i = 0; i < MAX_CODE_TRIES; i += 1) answers.push(await store.check('sign-in', email, '000000'));
    expect(answers).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'exhausted']);
    expect(await store.check('sign-in', email, '444444')).toBe('exhausted');
  });

  it('concurrent guesses cannot pass the limit; two right answers at once spend the code once', async () => {
    const email = address();
    await store.issue('sign-in', email, '555555', 600);
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.check('sign-in', email, String(100000 + i))),
    );
    expect(guesses.every((g) => g !== 'ok')).toBe(true);
    expect(await store.check('sign-in', email, '555555')).toBe('exhausted');

    const other = address();
    await store.issue('sign-in', other, '666666', 600);
    const both = await Promise.all([
      store.check('sign-in', other, '666666'),
      store.check('sign-in', other, '666666'),
    ]);
    expect(both.sort()).toEqual(['invalid', 'ok']);
  });

  it('an expired code answers expired, not invalid', async () => {
    const email = address();
    await store.issue('sign-in', email, '777777', 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await store.check('sign-in', email, '777777')).toBe('expired');
  });

  it('makes 6-digit codes with leading zeros, and reads pasted ones', () => {
    for (let i = 0; i < 200; i += 1) expect(newOneTimeCode()).toMatch(/^\d{6}$/);
    expect(normalizeCode(' 012 345 ')).toBe('012345');
    expect(normalizeCode('012-345')).toBe('012345');
    expect(normalizeCode('12345')).toBeNull();
    expect(normalizeCode('12345a')).toBeNull();
    expect(CodeMac.equal('ab', 'ab')).toBe(false);
  });
});
