import { KeyedSerial } from './concurrency';

describe('KeyedSerial', () => {
  /** a run that records when it starts and ends, and ends when `release` is called */
  const gated = (log: string[], name: string) => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const fn = async () => {
      log.push(`${name} start`);
      await gate;
      log.push(`${name} end`);
      return name;
    };
    return { fn, release };
  };
  const tick = () => new Promise((r) => setImmediate(r));

  it('runs two runs with a key in common one after the other, and runs without one at once', async () => {
    const serial = new KeyedSerial();
    const log: string[] = [];
    const a = gated(log, 'a');
    const b = gated(log, 'b');
    const c = gated(log, 'c');
    const ra = serial.run(['m1', 'm2'], a.fn);
    const rb = serial.run(['m2', 'm3'], b.fn);
    const rc = serial.run(['m4'], c.fn);
    await tick();
    // b waits for a (m2); c has nothing in common with either
    expect(log).toEqual(['a start', 'c start']);
    a.release();
    await expect(ra).resolves.toBe('a');
    await tick();
    expect(log).toEqual(['a start', 'c start', 'a end', 'b start']);
    b.release();
    c.release();
    await expect(Promise.all([rb, rc])).resolves.toEqual(['b', 'c']);
  });

  it('lets the next run go when one fails', async () => {
    const serial = new KeyedSerial();
    const failed = serial.run(['m1'], () => Promise.reject(new Error('boom')));
    const next = serial.run(['m1', 'm1'], () => Promise.resolve('next'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
