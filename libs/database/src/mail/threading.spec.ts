import { resolveThreadChains } from './messages.repository';
import { messageIdList, normalizeMessageId, normalizeSubject, threadColumns } from './threading';

describe('threading', () => {
  it('normalises Message-IDs to <local@domain> without whitespace', () => {
    expect(normalizeMessageId(' <a@x> ')).toBe('<a@x>');
    expect(normalizeMessageId('a@x')).toBe('<a@x>');
    expect(normalizeMessageId('<a@\r\n x>')).toBe('<a@x>');
    expect(normalizeMessageId('')).toBeNull();
    expect(normalizeMessageId('<>')).toBeNull();
    expect(normalizeMessageId(null)).toBeNull();
    expect(normalizeMessageId(`<${'x'.repeat(1000)}>`)).toBeNull();
  });

  it('reads References as a string or a list, in order, once each', () => {
    expect(messageIdList('<a@x> <b@x>\r\n <c@x>')).toEqual(['<a@x>', '<b@x>', '<c@x>']);
    expect(messageIdList(['<a@x>', '<b@x> <a@x>'])).toEqual(['<a@x>', '<b@x>']);
    expect(messageIdList('<a@x>,<b@x>')).toEqual(['<a@x>', '<b@x>']);
    expect(messageIdList(undefined)).toEqual([]);
  });

  it.each([
    ['Re: Budget', 'budget', true],
    ['RE: re: Fwd: Budget  2027', 'budget 2027', true],
    ['AW: WG: Budget', 'budget', true],
    ['[team] Re: [team] Budget', 'budget', true],
    ['Re[2]: Budget', 'budget', true],
    ['Sv: Budget', 'budget', true],
    ['Budget', 'budget', false],
    ['Rebate: ends today', 'rebate: ends today', false],
    ['Re:', '', true],
  ])('normalises the subject %j to %j (prefixed: %s)', (subject, key, prefixed) => {
    expect(normalizeSubject(subject)).toEqual({ key, prefixed });
  });

  const imap = { id: 'r1', subject: 'Re: Plan', conversationId: null, internetMessageId: '<m3@x>' };

  it("takes a provider's conversation id as it is, with no lookups", () => {
    expect(threadColumns({ ...imap, conversationId: 'AAQk=' })).toEqual({
      conversationId: 'AAQk=',
      refs: '',
      threadSubject: null,
      subjectFallback: false,
    });
    // a writer that knows nothing of threading: the message is its own thread
    expect(threadColumns({ ...imap, conversationId: null }).conversationId).toBe('r1');
  });

  it('guesses the root of References, then In-Reply-To, then its own Message-ID', () => {
    expect(threadColumns({ ...imap, references: ['<m1@x>', '<m2@x>'], inReplyTo: '<m2@x>' })).toEqual({
      conversationId: '<m1@x>',
      refs: '<m1@x> <m2@x>',
      threadSubject: 'plan',
      subjectFallback: false,
    });
    expect(threadColumns({ ...imap, references: [], inReplyTo: 'm2@x' })).toMatchObject({
      conversationId: '<m2@x>',
      refs: '<m2@x>',
    });
    expect(threadColumns({ ...imap, subject: 'Plan', references: [], inReplyTo: null })).toEqual({
      conversationId: '<m3@x>',
      refs: '',
      threadSubject: 'plan',
      subjectFallback: false,
    });
  });

  it('falls back on the subject only without references and with a reply or forward prefix', () => {
    expect(threadColumns({ ...imap, references: [], inReplyTo: null }).subjectFallback).toBe(true);
    expect(threadColumns({ ...imap, references: ['<m1@x>'] }).subjectFallback).toBe(false);
    expect(threadColumns({ ...imap, subject: 'Re: ', references: [] }).subjectFallback).toBe(false);
  });

  it('ignores a message referencing itself, and without any id is its own thread', () => {
    expect(threadColumns({ ...imap, references: ['<m3@x>'] })).toMatchObject({
      conversationId: '<m3@x>',
      refs: '',
    });
    expect(threadColumns({ ...imap, internetMessageId: null, references: [] }).conversationId).toBe('r1');
  });

  it('follows merge chains to their end and stops at a cycle', () => {
    expect(
      resolveThreadChains([
        ['<c@x>', '<b@x>'],
        ['<b@x>', '<a@x>'],
        ['<d@x>', '<c@x>'],
      ]),
    ).toEqual(
      new Map([
        ['<c@x>', '<a@x>'],
        ['<b@x>', '<a@x>'],
        ['<d@x>', '<a@x>'],
      ]),
    );
    expect(
      resolveThreadChains([
        ['<a@x>', '<b@x>'],
        ['<b@x>', '<a@x>'],
      ]),
    ).toEqual(new Map());
  });
});
