/**
 * `npm run bench:emulator`: the Outlook emulator holding 1,000,000 seeded messages (10 mailboxes of 100,000)
 * and serving message delta in pages of 1,000 over HTTPS.
 *
 * Measured in the same run:
 * - the emulator's live heap after seeding (after a forced GC), against the 2 GB budget; the emulator runs
 *   with --max-old-space-size=2048, so it could not even hold the data above that;
 * - delta throughput: full initial delta rounds of whole folders (`Prefer: odata.maxpagesize=1000`), every
 *   page fetched over HTTPS and JSON-parsed by the client, against the 20,000 messages/s target;
 * - the baseline: the same messages paged with the ordinary list call (`$top=1000&$skip=n`), the way a
 *   client without delta would read a folder.
 * `ratio` is delta throughput over the baseline's.
 */
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../libs/testing/src/emulator';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 10);
const PER_MAILBOX = Number(process.env.BENCH_MESSAGES_PER_MAILBOX ?? 100_000);
const TARGET_MSGS_PER_S = 20_000;
const HEAP_BUDGET_BYTES = 2 * 1024 ** 3;

const ca = withEmulatorCa();
const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 1 });

function getJson(
  url: string,
  headers: Record<string, string>,
): Promise<{ body: Record<string, unknown>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        if (res.statusCode !== 200)
          return reject(new Error(`${url} -> ${res.statusCode} ${buf.toString().slice(0, 300)}`));
        resolve({ body: JSON.parse(buf.toString('utf8')) as Record<string, unknown>, bytes: buf.length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

interface Run {
  messages: number;
  pages: number;
  bytes: number;
  seconds: number;
}

async function readAll(firstUrl: string, headers: Record<string, string>, linkKey: string): Promise<Run> {
  let url: string | undefined = firstUrl;
  const run: Run = { messages: 0, pages: 0, bytes: 0, seconds: 0 };
  const t0 = performance.now();
  while (url) {
    const { body, bytes } = await getJson(url, headers);
    run.messages += (body.value as unknown[]).length;
    run.pages++;
    run.bytes += bytes;
    url = body[linkKey] as string | undefined;
  }
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

async function main(): Promise<void> {
  const emulator = await startEmulator({
    NODE_OPTIONS:
      `--expose-gc --max-old-space-size=2048 ${process.env.BENCH_EMULATOR_NODE_OPTIONS ?? ''}`.trim(),
    LOG_LEVEL: 'warn',
    EMULATOR_THROTTLING: 'false',
  });
  try {
    const baseHeap = (await emulator.admin<{ heapUsedBytes: number }>('GET', '/_emulator/stats?gc=true'))
      .heapUsedBytes;
    const seedStart = performance.now();
    const addresses: string[] = [];
    for (let i = 0; i < MAILBOXES; i++) {
      const address = `bench${i}@bench.example`;
      await emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        seed: { messages: PER_MAILBOX, seed: 1000 + i },
      });
      addresses.push(address);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const after = await emulator.admin<{ heapUsedBytes: number; totals: { messages: number } }>(
      'GET',
      '/_emulator/stats?gc=true',
    );
    const stats = { heapUsedBytes: after.heapUsedBytes, messages: after.totals.messages };

    const delta: Run = { messages: 0, pages: 0, bytes: 0, seconds: 0 };
    const list: Run = { messages: 0, pages: 0, bytes: 0, seconds: 0 };
    const add = (into: Run, r: Run) => {
      into.messages += r.messages;
      into.pages += r.pages;
      into.bytes += r.bytes;
      into.seconds += r.seconds;
    };
    // the inbox of three mailboxes (about 60,000 messages each): delta, then the list baseline, interleaved
    for (const address of addresses.slice(0, 3)) {
      const { access_token } = await emulator.admin<{ access_token: string }>('POST', '/_emulator/tokens', {
        address,
      });
      const headers = { Authorization: `Bearer ${access_token}`, Prefer: 'odata.maxpagesize=1000' };
      add(
        delta,
        await readAll(
          `${emulator.origin}/v1.0/me/mailFolders/inbox/messages/delta`,
          headers,
          '@odata.nextLink',
        ),
      );
      add(
        list,
        await readAll(
          `${emulator.origin}/v1.0/me/mailFolders/inbox/messages?$top=1000`,
          headers,
          '@odata.nextLink',
        ),
      );
    }
    const deltaRate = delta.messages / delta.seconds;
    const listRate = list.messages / list.seconds;
    const heapBytes = stats.heapUsedBytes - baseHeap;
    const results = {
      name: 'emulator-delta',
      date: new Date().toISOString(),
      seeded: { mailboxes: MAILBOXES, messages: stats.messages, seconds: Number(seedSeconds.toFixed(1)) },
      heap: {
        liveHeapBytes: stats.heapUsedBytes,
        dataHeapBytes: heapBytes,
        bytesPerMessage: Math.round(heapBytes / stats.messages),
        budgetBytes: HEAP_BUDGET_BYTES,
        withinBudget: stats.heapUsedBytes < HEAP_BUDGET_BYTES,
      },
      delta: {
        ...delta,
        messagesPerSecond: Math.round(deltaRate),
        target: TARGET_MSGS_PER_S,
        meetsTarget: deltaRate >= TARGET_MSGS_PER_S,
      },
      baselineList: { ...list, messagesPerSecond: Math.round(listRate) },
      ratio: Number((deltaRate / listRate).toFixed(2)),
    };
    const mb = (n: number) => `${(n / 1024 ** 2).toFixed(0)} MB`;
    const rows = [
      ['measure', 'value', 'target'],
      ['messages seeded', String(stats.messages), '1,000,000'],
      ['seeding time', `${seedSeconds.toFixed(1)} s`, ''],
      ['emulator live heap', mb(stats.heapUsedBytes), '< 2048 MB'],
      ['heap per message', `${results.heap.bytesPerMessage} B`, ''],
      [
        'delta (pages of 1,000)',
        `${Math.round(deltaRate)} msg/s (${delta.messages} msgs, ${delta.pages} pages)`,
        `>= ${TARGET_MSGS_PER_S} msg/s`,
      ],
      [
        'baseline: list $top/$skip',
        `${Math.round(listRate)} msg/s (${list.messages} msgs, ${list.pages} pages)`,
        '',
      ],
    ];
    report('emulator-delta', rows, results);
  } finally {
    agent.destroy();
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
