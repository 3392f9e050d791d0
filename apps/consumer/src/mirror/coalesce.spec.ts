import type { MailboxPoke, MailboxPokeChange } from '@email-core/contracts';
import { coalesce, emptyRound, mergeRounds, namesChanges } from './coalesce';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

const poke = (
  receivedAt: string,
  changes: MailboxPokeChange[],
  extra: Partial<MailboxPoke> = {},
): MailboxPoke => ({
  type: 'mailbox.poke',
  v: 1,
  accountId: ACCOUNT,
  source: 'webhook',
  changes,
  receivedAt,
  ...extra,
});
const item = (kind: MailboxPokeChange['kind'], messageId?: string): MailboxPokeChange => ({
  kind,
  ...(messageId === undefined ? {} : { messageId }),
});

describe('coalesce', () => {
  it('merges duplicates and every change type per message, whatever the order, and keeps the earliest receipt', () => {
    const round = coalesce([
      poke('2026-01-01T00:00:02.000Z', [item('updated', 'm1'), item('created', 'm2')]),
      poke('2026-01-01T00:00:01.000Z', [item('deleted', 'm1'), item('updated', 'm1')]),
      poke('2026-01-01T00:00:03.000Z', [item('created', 'm2')]),
    ]);
    expect(round.changes).toEqual(
      new Map([
        ['m1', new Set(['updated', 'deleted'])],
        ['m2', new Set(['created'])],
      ]),
    );
    expect(round).toMatchObject({
      notifiedAt: '2026-01-01T00:00:01.000Z',
      notifications: 3,
      items: 5,
      unidentified: 0,
    });
  });

  it('keeps the folders a poke names, counts changes that name nothing, and notes every-folder pokes', () => {
    const round = coalesce([
      poke('2026-01-01T00:00:00.000Z', [{ kind: 'updated', folderId: 'f1' }, item('updated')]),
      poke('2026-01-01T00:00:05.000Z', [], { source: 'reconcile', everyFolder: true }),
    ]);
    expect(round.folders).toEqual(new Set(['f1']));
    expect(round.unidentified).toBe(1);
    expect(round.everyFolder).toBe(true);
    expect(round.sources).toEqual(new Set(['webhook', 'reconcile']));
    // the reconciliation answers no change: the round's notification time is the webhook's
    expect(round.notifiedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(namesChanges(coalesce([poke('2026-01-01T00:00:05.000Z', [], { everyFolder: true })]))).toBe(false);
  });

  it('merges a round that joins another into it', () => {
    const running = coalesce([poke('2026-01-01T00:00:02.000Z', [item('updated', 'm1')])]);
    const joined = coalesce([
      poke('2026-01-01T00:00:01.000Z', [item('deleted', 'm1'), item('created', 'm2')], { source: 'idle' }),
    ]);
    const merged = mergeRounds(mergeRounds(emptyRound(), running), joined);
    expect(merged.changes).toEqual(
      new Map([
        ['m1', new Set(['updated', 'deleted'])],
        ['m2', new Set(['created'])],
      ]),
    );
    expect(merged).toMatchObject({ notifiedAt: '2026-01-01T00:00:01.000Z', notifications: 2, items: 3 });
    expect(merged.sources).toEqual(new Set(['webhook', 'idle']));
  });

  it('refuses an empty round', () => {
    expect(() => coalesce([])).toThrow();
  });
});
