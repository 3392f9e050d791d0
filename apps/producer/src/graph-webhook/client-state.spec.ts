import { createHash } from 'node:crypto';
import { clientStateMatches, hashClientState } from './client-state';

describe('clientState hashing', () => {
  const state = 'a-random-client-state-of-some-length';
  const stored = createHash('sha256').update(state, 'utf8').digest('hex');

  it('stores SHA-256 of the UTF-8 bytes, in hex', () => {
    expect(hashClientState(state)).toBe(stored);
    expect(hashClientState('é')).toBe(createHash('sha256').update(Buffer.from('é', 'utf8')).digest('hex'));
  });

  it('matches only the exact clientState', () => {
    expect(clientStateMatches(state, stored)).toBe(true);
    expect(clientStateMatches(`${state} `, stored)).toBe(false);
    expect(clientStateMatches(state.toUpperCase(), stored)).toBe(false);
    expect(clientStateMatches('', stored)).toBe(false);
    expect(clientStateMatches(null, stored)).toBe(false);
    expect(clientStateMatches(undefined, stored)).toBe(false);
    expect(clientStateMatches('é', hashClientState('é'))).toBe(true);
    expect(clientStateMatches('e', hashClientState('é'))).toBe(false);
  });

  it('never matches a stored value that is not a SHA-256 hex digest', () => {
    expect(clientStateMatches(state, '')).toBe(false);
    expect(clientStateMatches(state, 'abc')).toBe(false);
    expect(clientStateMatches(state, state)).toBe(false);
  });
});
