/**
 * `npm run bench:prepared-pages`: the page statements with and without prepared statements, on the stack's
 * Postgres alone (no consumer, no emulator, so none of their CPU in the figures), alternated round by round on two
 * one-connection pools of the same database, each round into a fresh account:
 * - live pages: 400 transactions of 5 new messages, as a live round writes them (`applyPage`'s `live`: the page
 *   statements prepared, generic plans), against the same pages written as before (sent as text, planned each time);
 * - sync pages: 20 transactions of 500 messages, as a first sync writes them: as text on both pools (the control:
 *   a sync's page statements are not prepared; at 211deb8 they were, with custom plans, and took 1.6x as long).
 * - larger live pages (25, 100 and 300 rows): the live statements with their generic plans against text, whatever
 *   the product does with pages that size (it sends a live page over LIVE_PAGE_MAX_ROWS as text): where the generic
 *   plan stops paying.
 * - live pages as the product commits them (400 of 5 rows, both prepared with generic plans, the WAL position read
 *   after each commit for the cache's watermark): `inGenericPlanTransaction` (the transaction opened with its plans
 *   in one round trip, committed with the position in one) against `DataSource.transaction`, `useGenericPlans` and
 *   `currentWalPosition` (two round trips more per page: the SET and the position's read).
 * Each figure is the median of BENCH_PREPARED_ROUNDS rounds (default 5). `ratio` = the live pages' time as text ÷
 * prepared (above 1: prepared is faster). Writes bench/results/prepared-pages.json.
 */
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource } from '../libs/database/src/data-source';
import { inGenericPlanTransaction } from '../libs/database/src/generic-plan-transaction';
import { currentWalPosition } from '../libs/database/src/read-replica/account-writes';
import { MessagesRepository } from '../libs/database/src/mail/messages.repository';
import { insertTestAccount, testMail } from '../libs/database/src/mail/testing/fixtures';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { currentTestRun } from '../libs/testing/src/test-run';
import { report } from './report';

const ROUNDS = Number(process.env.BENCH_PREPARED_ROUNDS ?? 5);
const BODY = 'lorem ipsum dolor sit amet '.repeat(40);

interface Shape {
  name: string;
  transactions: number;
  rows: number;
  /** how the product writes them: a live round's pages prepared (`live`), a sync's as text */
  live: boolean;
}
const SHAPES: Shape[] = [
  { name: 'live', transactions: 400, rows: 5, live: true },
  { name: 'sync', transactions: 20, rows: 500, live: false },
  // a live round's larger pages (a catch-up, a reconciliation of a busy folder) with the generic plans forced, against
  // text: where the generic plan stops paying (folder-delta's LIVE_PAGE_MAX_ROWS)
  { name: 'live, 25 rows', transactions: 80, rows: 25, live: true },
  { name: 'live, 100 rows', transactions: 40, rows: 100, live: true },
  { name: 'live, 300 rows', transactions: 20, rows: 300, live: true },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function writePages(ds: DataSource, shape: Shape, prepared: boolean, tag: string): Promise<number> {
  const repo = new MessagesRepository(ds);
  const { account } = await insertTestAccount(ds, 'outlook', [['inbox', 'inbox']]);
  const t0 = performance.now();
  for (let p = 0; p < shape.transactions; p++) {
    const messages = Array.from({ length: shape.rows }, (_, i) =>
      testMail(`${tag}-${p}-${i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, p * shape.rows + i)), {
        body: { contentType: 'text', content: `${BODY}${i}` },
      }),
    );
    await ds.transaction((m) =>
      repo.applyPage(
        m,
        account,
        'inbox',
        { messages, removedIds: [] },
        new Map(),
        prepared && shape.live ? { live: true } : {},
      ),
    );
  }
  return performance.now() - t0;
}

/**
 * 400 live pages of 5 rows as the product commits them, each followed by its WAL position: opened and committed
 * in one round trip each (`combined`), or as before session 30 (the SET and the position's read on their own).
 */
async function commitLivePages(ds: DataSource, combined: boolean, tag: string): Promise<number> {
  const repo = new MessagesRepository(ds);
  const { account } = await insertTestAccount(ds, 'outlook', [['inbox', 'inbox']]);
  const positions: number[] = [];
  const t0 = performance.now();
  for (let p = 0; p < 400; p++) {
    const messages = Array.from({ length: 5 }, (_, i) =>
      testMail(`${tag}-${p}-${i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, p * 5 + i)), {
        body: { contentType: 'text', content: `${BODY}${i}` },
      }),
    );
    const write = (m: EntityManager) =>
      repo.applyPage(m, account, 'inbox', { messages, removedIds: [] }, new Map(), { live: true });
    if (combined) {
      const { walPosition } = await inGenericPlanTransaction(ds, write);
      positions.push(walPosition ?? 0);
    } else {
      await ds.transaction(write);
      positions.push(await currentWalPosition(ds));
    }
  }
  const elapsed = performance.now() - t0;
  if (positions.some((x, i) => x <= 0 || (i > 0 && x <= positions[i - 1])))
    throw new Error('a WAL position did not move forward after a commit');
  return elapsed;
}

async function main(): Promise<void> {
  await globalSetup();
  const url = currentTestRun().databaseUrl;
  const on = createDataSource({ url, poolSize: 1, preparedStatements: true });
  const off = createDataSource({ url, poolSize: 1, preparedStatements: false });
  await on.initialize();
  await off.initialize();
  try {
    const times: Record<string, { prepared: number[]; text: number[] }> = {};
    for (const shape of SHAPES) {
      times[shape.name] = { prepared: [], text: [] };
      // one round of each first, not counted: connections, catalogs and caches warm
      await writePages(on, shape, true, `warm-on-${shape.name}`);
      await writePages(off, shape, false, `warm-off-${shape.name}`);
      for (let r = 0; r < ROUNDS; r++) {
        times[shape.name].prepared.push(await writePages(on, shape, true, `on-${shape.name}-${r}`));
        times[shape.name].text.push(await writePages(off, shape, false, `off-${shape.name}-${r}`));
      }
    }
    const commits = { combined: [] as number[], separate: [] as number[] };
    await commitLivePages(on, true, 'warm-combined');
    await commitLivePages(on, false, 'warm-separate');
    for (let r = 0; r < ROUNDS; r++) {
      commits.combined.push(await commitLivePages(on, true, `combined-${r}`));
      commits.separate.push(await commitLivePages(on, false, `separate-${r}`));
    }
    const rows = [
      ['pages', 'transactions x rows', 'prepared (median ms)', 'as text (median ms)', 'text / prepared'],
    ];
    const results: Record<string, unknown> = { rounds: ROUNDS };
    for (const shape of SHAPES) {
      const t = times[shape.name];
      const prepared = median(t.prepared);
      const text = median(t.text);
      rows.push([
        shape.name,
        `${shape.transactions} x ${shape.rows}`,
        prepared.toFixed(0),
        text.toFixed(0),
        (text / prepared).toFixed(3),
      ]);
      results[shape.name] = { ...t, medianPreparedMs: prepared, medianTextMs: text };
    }
    rows.push(
      ['', '', '', '', ''],
      [
        'live pages committed with their WAL position',
        '',
        'combined (median ms)',
        'separate (median ms)',
        'separate / combined',
      ],
      [
        'live, as the product commits them',
        '400 x 5',
        median(commits.combined).toFixed(0),
        median(commits.separate).toFixed(0),
        (median(commits.separate) / median(commits.combined)).toFixed(3),
      ],
    );
    const live = times.live;
    results.commits = {
      ...commits,
      medianCombinedMs: median(commits.combined),
      medianSeparateMs: median(commits.separate),
    };
    report('prepared-pages', rows, {
      ...results,
      ratio: Number((median(live.text) / median(live.prepared)).toFixed(3)),
    });
  } finally {
    await on.destroy();
    await off.destroy();
    await globalTeardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
