import { describe, expect, it } from '@jest/globals';
import { newMailIds } from './new-mail-changes';

const change = (kind: string, messageId: string, folderId = 'inbox') =>
  ({ kind, messageId, folderId }) as { kind: 'created'; messageId: string; folderId: string };

describe('new mail from mail.changed', () => {
  it('is the created changes in the inbox, each once', () => {
    expect(
      newMailIds(
        [
          change('created', 'a'),
          change('created', 'b', 'archive'),
          change('created', 'a'),
          change('created', 'c'),
        ],
        'inbox',
        new Set(['c']),
      ),
    ).toEqual(['a']);
  });

  it('never an upsert (a flag, a read state, a move into the inbox) or a removal', () => {
    expect(newMailIds([change('upserted', 'a'), change('removed', 'b')], 'inbox', new Set())).toEqual([]);
  });

  it("ignores kinds it does not know, and events from a worker that sends no 'created' (only upserted)", () => {
    expect(newMailIds([change('renamed', 'a'), change('upserted', 'b')], 'inbox', new Set())).toEqual([]);
  });
});
