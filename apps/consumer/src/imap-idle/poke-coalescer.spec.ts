import { PokeCoalescer, type CoalescedPoke } from './poke-coalescer';

describe('PokeCoalescer', () => {
  let flushed: Array<{ accountId: string; poke: CoalescedPoke }>;
  let coalescer: PokeCoalescer;

  beforeEach(() => {
    jest.useFakeTimers();
    flushed = [];
    coalescer = new PokeCoalescer(
      { quietMs: 150, maxDelayMs: 1000, flush: (accountId, poke) => flushed.push({ accountId, poke }) },
      () => Date.now(),
    );
  });

  afterEach(() => jest.useRealTimers());

  it('turns a 500-message delivery into one poke naming the folder once', () => {
    for (let i = 0; i < 500; i++) coalescer.add('a', { kind: 'created', folder: 'INBOX' });
    expect(flushed).toEqual([]);
    jest.advanceTimersByTime(149);
    expect(flushed).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(flushed).toEqual([
      { accountId: 'a', poke: { changes: [{ kind: 'created', folderId: 'INBOX' }], everyFolder: false } },
    ]);
    expect(coalescer.size).toBe(0);
  });

  it('keeps each (kind, folder) of a burst, and accounts apart', () => {
    coalescer.add('a', { kind: 'created', folder: 'INBOX' });
    coalescer.add('a', { kind: 'updated', folder: 'INBOX' });
    coalescer.add('a', { kind: 'updated', folder: 'Archive' });
    coalescer.add('b', { kind: 'deleted', folder: 'INBOX' });
    coalescer.add('a', { kind: 'updated', folder: 'INBOX' });
    jest.advanceTimersByTime(150);
    expect(flushed).toHaveLength(2);
    expect(flushed.find((f) => f.accountId === 'a')?.poke.changes).toEqual([
      { kind: 'created', folderId: 'INBOX' },
      { kind: 'updated', folderId: 'INBOX' },
      { kind: 'updated', folderId: 'Archive' },
    ]);
    expect(flushed.find((f) => f.accountId === 'b')?.poke).toEqual({
      changes: [{ kind: 'deleted', folderId: 'INBOX' }],
      everyFolder: false,
    });
  });

  it('flushes a steady trickle after maxDelayMs, however it keeps coming', () => {
    for (let t = 0; t < 1000; t += 100) {
      coalescer.add('a', { kind: 'updated', folder: 'INBOX' });
      jest.advanceTimersByTime(100);
    }
    expect(flushed).toHaveLength(1);
    coalescer.add('a', { kind: 'updated', folder: 'INBOX' });
    jest.advanceTimersByTime(150);
    expect(flushed).toHaveLength(2);
  });

  it('marks every folder when one change asks for it', () => {
    coalescer.add('a', { kind: 'created', folder: 'INBOX' });
    coalescer.add('a', { kind: 'everyFolder' });
    jest.advanceTimersByTime(150);
    expect(flushed[0].poke.everyFolder).toBe(true);
  });

  it('flushAll sends every pending burst now; drop forgets one', () => {
    coalescer.add('a', { kind: 'created', folder: 'INBOX' });
    coalescer.add('b', { kind: 'created', folder: 'INBOX' });
    coalescer.add('c', { kind: 'created', folder: 'INBOX' });
    coalescer.drop('c');
    coalescer.flushAll();
    expect(flushed.map((f) => f.accountId).sort()).toEqual(['a', 'b']);
    jest.advanceTimersByTime(2000);
    expect(flushed).toHaveLength(2);
  });
});
