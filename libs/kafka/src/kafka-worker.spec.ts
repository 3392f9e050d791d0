import { EventEmitter } from 'node:events';
import type { RunningConsumer } from './consumer-runner';
import { KafkaWorker, KafkaWorkerGroup } from './kafka-worker';

const logger = { log: () => undefined, warn: () => undefined };

/** A worker whose consumer takes `stopMs` to stop (as kafkajs waits for its fetch in progress). */
function worker(stopMs: number, stops: number[]): KafkaWorker {
  const events = new EventEmitter();
  const consumer = {
    on: events.on.bind(events),
    events: { CRASH: 'crash' },
  } as unknown as RunningConsumer['consumer'];
  return new KafkaWorker({
    name: `worker ${stopMs}`,
    logger,
    ready: () => Promise.resolve(true),
    start: () =>
      Promise.resolve({
        consumer,
        stop: () =>
          new Promise<void>((r) =>
            setTimeout(() => {
              stops.push(stopMs);
              r();
            }, stopMs),
          ),
      }),
  });
}

describe('KafkaWorkerGroup', () => {
  it('stops every worker at once: the shutdown takes as long as the slowest, not the sum', async () => {
    const stops: number[] = [];
    const group = new KafkaWorkerGroup();
    const workers = [300, 200, 250, 100].map((ms) => group.add(worker(ms, stops)));
    workers.forEach((w) => w.begin());
    await new Promise((r) => setTimeout(r, 50)); // every worker has started consuming
    const started = Date.now();
    await group.stopAll();
    const took = Date.now() - started;
    expect(stops.sort((a, b) => a - b)).toEqual([100, 200, 250, 300]);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(600);
    // a second stop (each consumer's own shutdown hook) waits for nothing more
    const again = Date.now();
    await Promise.all([group.stopAll(), ...workers.map((w) => w.stop())]);
    expect(Date.now() - again).toBeLessThan(50);
    expect(stops).toHaveLength(4);
  });
});
