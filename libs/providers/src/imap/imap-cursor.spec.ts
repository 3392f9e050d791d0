import {
  decodeImapCursor,
  encodeImapCursor,
  formatUidSet,
  parseUidSet,
  type ImapCursorState,
} from './imap-cursor';

describe('the IMAP cursor', () => {
  const state: ImapCursorState = { p: 'INBOX', v: '7', phase: 'live', m: '42', top: '42', after: 0 };

  it('writes UIDs as ascending runs and reads them back', () => {
    expect(formatUidSet([5, 1, 2, 3, 9, 10, 3])).toBe('1:3,5,9:10');
    expect(parseUidSet('1:3,5,9:10')).toEqual([1, 2, 3, 5, 9, 10]);
    expect(formatUidSet([])).toBe('');
    expect(parseUidSet('')).toEqual([]);
  });

  it('round-trips a state with and without a UID set', () => {
    expect(decodeImapCursor(encodeImapCursor(state))).toEqual(state);
    const withSet = { ...state, u: '1:3,5' };
    expect(decodeImapCursor(encodeImapCursor(withSet))).toEqual(withSet);
    expect(decodeImapCursor(encodeImapCursor({ ...state, u: '' }))?.u).toBe('');
  });

  it('refuses a UID set that is malformed, descending or too large to expand', () => {
    for (const u of ['1:', 'a', '1,,2', '5:1', '1:4294967295', 7]) {
      expect(
        decodeImapCursor(encodeImapCursor({ ...state, u } as unknown as ImapCursorState)),
      ).toBeUndefined();
    }
  });
});
