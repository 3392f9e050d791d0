import { describe, expect, it } from '@jest/globals';
import { batchStatusLine, isTicked, NO_SELECTION, rangeOf, tick, type BatchState } from './selection';

const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));

describe('multi-select', () => {
  it('ticks and unticks ids; in "all" mode unticking excludes and ticking again includes', () => {
    const some = tick(tick(NO_SELECTION, ['a', 'b', 'c'], true), ['b'], false);
    expect(['a', 'b', 'c'].map((id) => isTicked(some, id))).toEqual([true, false, true]);
    const all = tick({ all: true, excluded: new Set() }, ['d', 'e'], false);
    expect(all).toEqual({ all: true, excluded: new Set(['d', 'e']) });
    expect(isTicked(all, 'zz-not-loaded')).toBe(true);
    expect(tick(all, ['d'], true)).toEqual({ all: true, excluded: new Set(['e']) });
  });

  it('a Shift range covers the loaded rows between the two, in either order', () => {
    expect(rangeOf(rows, 'b', 'd')).toEqual(['b', 'c', 'd']);
    expect(rangeOf(rows, 'e', 'c')).toEqual(['c', 'd', 'e']);
    expect(rangeOf(rows, 'c', 'c')).toEqual(['c']);
    expect(rangeOf(rows, 'gone', 'c')).toBeNull();
  });

  it('says one status for the whole batch, however many commands it took', () => {
    const wording = { running: 'Archiving', done: 'Archived', failed: 'archive' };
    const batch = (status: BatchState['status'], done: number, failed = 0, reason: string | null = null) => ({
      status,
      messages: 1200,
      commands: 3,
      counts: { queued: 3 - done - failed, sent: 0, done, failed },
      reason,
    });
    expect(batchStatusLine(wording, undefined)).toEqual({ text: 'Archiving…', tone: '', final: false });
    expect(batchStatusLine(wording, batch('sent', 1)).text).toBe(
      'Archiving 1,200 messages… 1 of 3 parts done',
    );
    expect(batchStatusLine(wording, batch('done', 3))).toEqual({
      text: 'Archived: 1,200 messages',
      tone: 'done',
      final: true,
    });
    expect(batchStatusLine(wording, batch('failed', 2, 1, 'The folder is gone.'))).toEqual({
      text: 'Could not archive every message (1 of 3 parts failed): The folder is gone.',
      tone: 'error',
      final: true,
    });
    expect(batchStatusLine(wording, undefined, 'Too many requests').text).toBe(
      'Could not archive the selection: Too many requests',
    );
    const one = { ...batch('sent', 0), messages: 1, commands: 1 };
    expect(batchStatusLine(wording, one).text).toBe('Archiving 1 message…');
  });
});
