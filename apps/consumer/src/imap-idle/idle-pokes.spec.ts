import { Logger } from '@nestjs/common';
import type { Kafka, Message } from 'kafkajs';
import { CORRELATION_ID_HEADER, mailboxPokeSchema } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { runWithCorrelation } from '@email-core/logging';
import type { KafkaTopics } from '../messaging/kafka-topics';
import { idlePoke, IdlePokes } from './idle-pokes';

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

describe('IdlePokes: correlation ids', () => {
  it('starts a fresh correlation id for each poke (whatever work was current), carried in its Kafka header', async () => {
    const sent: Message[] = [];
    const producer = {
      connect: () => Promise.resolve(),
      send: ({ messages }: { messages: Message[] }) => {
        sent.push(...messages);
        return Promise.resolve([]);
      },
    };
    const publisher = new KafkaPublisher({ producer: () => producer } as unknown as Kafka);
    const topics = { name: (t: string) => `unit.${t}` } as unknown as KafkaTopics;
    const logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const pokes = new IdlePokes(publisher, topics);
    const burst = { changes: [{ kind: 'created' as const, folderId: 'INBOX' }], everyFolder: false };
    pokes.publish(account, burst);
    runWithCorrelation('some-other-work', () => pokes.publish(account, burst));
    await pokes.drain();
    const ids = sent.map((m) => m.headers?.[CORRELATION_ID_HEADER]);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(2);
    expect(logged).toHaveBeenCalledWith(`IDLE poke of account ${account}: 1 folder change(s)`);
    logged.mockRestore();
  });
});
