import { mailboxPokeSchema } from '@email-core/contracts';
import { idlePoke } from './idle-pokes';

const account = '6f1c2a52-5a43-4d5e-9a57-2f8b8f4a1c11';
const at = new Date('2026-12-04T23:30:00.000Z');

describe('idlePoke', () => {
  it('names the changed folders, source idle, valid against the schema', () => {
    const poke = idlePoke(
      account,
      { changes: [{ kind: 'created', folderId: 'INBOX' }], everyFolder: false },
      at,
    );
    expect(poke).toEqual({
      type: 'mailbox.poke',
      v: 1,
      accountId: account,
      source: 'idle',
      changes: [{ kind: 'created', folderId: 'INBOX' }],
      receivedAt: '2026-12-04T23:30:00.000Z',
    });
    expect(mailboxPokeSchema.safeParse(poke).success).toBe(true);
  });

  it('asks for every folder (and names none) when the burst did, or named more folders than a poke holds', () => {
    const every = idlePoke(
      account,
      { changes: [{ kind: 'created', folderId: 'INBOX' }], everyFolder: true },
      at,
    );
    expect(every).toMatchObject({ changes: [], everyFolder: true });
    expect(mailboxPokeSchema.safeParse(every).success).toBe(true);
    const many = Array.from({ length: 1001 }, (_, i) => ({ kind: 'updated' as const, folderId: `F${i}` }));
    const big = idlePoke(account, { changes: many, everyFolder: false }, at);
    expect(big).toMatchObject({ changes: [], everyFolder: true });
    expect(mailboxPokeSchema.safeParse(big).success).toBe(true);
  });
});
