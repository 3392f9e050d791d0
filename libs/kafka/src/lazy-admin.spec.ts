import type { Admin, Kafka } from 'kafkajs';
import { LazyAdmin } from './lazy-admin';

/** a Kafka whose admin clients count their connects and disconnects; `failConnects` connects fail first */
function fakeKafka(failConnects = 0) {
  const made: Array<{ connect: jest.Mock; disconnect: jest.Mock }> = [];
  let failures = failConnects;
  const kafka = {
    admin: () => {
      const client = {
        connect: jest.fn(() =>
          failures-- > 0 ? Promise.reject(new Error('broker down')) : Promise.resolve(),
        ),
        disconnect: jest.fn(() => Promise.resolve()),
      };
      made.push(client);
      return client as unknown as Admin;
    },
  } as unknown as Kafka;
  return { kafka, made };
}

describe('LazyAdmin', () => {
  it('connects once and gives the same client to every caller', async () => {
    const { kafka, made } = fakeKafka();
    const admin = new LazyAdmin(kafka);
    const [a, b] = await Promise.all([admin.get(), admin.get()]);
    expect(a).toBe(b);
    expect(made).toHaveLength(1);
    expect(made[0].connect).toHaveBeenCalledTimes(1);
  });

  it('after a drop, disconnects the old client and connects a new one on the next get', async () => {
    const { kafka, made } = fakeKafka();
    const admin = new LazyAdmin(kafka);
    const first = await admin.get();
    admin.drop();
    const second = await admin.get();
    expect(second).not.toBe(first);
    expect(made[0].disconnect).toHaveBeenCalledTimes(1);
    expect(made).toHaveLength(2);
  });

  it('a failed connect is forgotten: the next get tries again', async () => {
    const { kafka, made } = fakeKafka(1);
    const admin = new LazyAdmin(kafka);
    await expect(admin.get()).rejects.toThrow('broker down');
    await expect(admin.get()).resolves.toBeDefined();
    expect(made).toHaveLength(2);
  });

  it('close disconnects the client, and closing with none is fine', async () => {
    const { kafka, made } = fakeKafka();
    const admin = new LazyAdmin(kafka);
    await admin.close();
    await admin.get();
    await admin.close();
    expect(made[0].disconnect).toHaveBeenCalledTimes(1);
  });
});
