import { HeldSnapshot } from './held-snapshot';

describe('HeldSnapshot (where a round began with its poked messages)', () => {
  const snapshot = () =>
    new HeldSnapshot(
      new Map([
        ['a', 'inbox'],
        ['b', 'archive'],
      ]),
      ['a', 'b', 'c'], // c was asked about and not held
    );

  it('answers for ids it was asked about, held or not', () => {
    expect(snapshot().take(['a', 'c'])).toEqual(new Map([['a', 'inbox']]));
  });

  it('answers an id once: the page that took it writes it, a later page reads the rows', () => {
    const s = snapshot();
    expect(s.take(['b'])).toEqual(new Map([['b', 'archive']]));
    expect(s.take(['b'])).toBeUndefined();
    expect(s.take(['a'])).toEqual(new Map([['a', 'inbox']]));
  });

  it('does not answer when one id is not its own, and spends the others anyway', () => {
    const s = snapshot();
    expect(s.take(['a', 'z'])).toBeUndefined();
    expect(s.take(['a'])).toBeUndefined();
    expect(s.take(['c'])).toEqual(new Map());
  });

  it('answers nothing for no ids, and nothing at all once dropped', () => {
    const s = snapshot();
    expect(s.take([])).toBeUndefined();
    s.drop();
    expect(s.take(['a'])).toBeUndefined();
  });
});
