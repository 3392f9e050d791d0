import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ConsumerGroups, Topics } from '@email-core/contracts';
import { parseExposition, sumOf, type Sample } from '@email-core/metrics';
import { startProduct, waitFor, type RunningProduct } from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
/** the handful, then the many */
const FEW = 5;
const MANY = 500;
/** KAFKA_TOPIC_PARTITIONS the product's topics are created with here */
const PARTITIONS = 6;

interface Account {
  id: string;
  email: string;
  subscriptionId: string;
  clientState: string;
}

/** one series: its name and labels, without the value */
const seriesKey = (s: Sample): string =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

/** series per family (a histogram's _bucket/_sum/_count count under their own names) */
function familyCounts(samples: Sample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  return counts;
}

/**
 * Node's own metrics: their label sets are Node's enumerations (handle and resource types, GC kinds), which
 * grow as the process first uses one (a first TLS socket, a first major GC), whatever the number of accounts.
 */
const RUNTIME = /^email_core_(nodejs|process)_/;
/** Node's GC duration histogram: one set of buckets per GC kind that has run */
const GC = /^email_core_nodejs_gc_duration_seconds/;
/** one series per consumer group, topic (the one it reads) and partition: bounded by the topics' partitions */
const LAG = 'email_core_kafka_consumer_lag';

/**
 * Issue 22, cardinality: 500 linked Outlook accounts (rows straight into the product's own database, each with a
 * Graph subscription) all get change notifications through the webhook, whose pokes the consumer runs rounds
 * for; the number of series on both apps' /metrics is the same as with a handful of accounts doing the same, and
 * no series names an account, a subscription or an address. Accounts never become a label.
 */
describe('metrics cardinality: series independent of the number of accounts', () => {
  let product: RunningProduct;
  let db: Client;
  let producer: string;
  let consumer: string;
  const accounts: Account[] = [];
  const tag = randomBytes(3).toString('hex');

  const scrape = async (base: string): Promise<Sample[]> => {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };

  /** `n` more accounts: a user, an Outlook account (synced) and its Graph subscription each, in one statement each */
  const addAccounts = async (n: number): Promise<void> => {
    const fresh: Account[] = Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      email: `card-${tag}-${accounts.length + i}@contoso.example`,
      subscriptionId: `card-sub-${tag}-${accounts.length + i}`,
      clientState: randomBytes(16).toString('hex'),
    }));
    const users = fresh.map(() => randomUUID());
    await db.query(
      `INSERT INTO users (id, email, password_hash) SELECT u, e, 'x' FROM unnest($1::uuid[], $2::text[]) AS t(u, e)`,
      [users, fresh.map((a) => `user-${a.email}`)],
    );
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, status)
       SELECT a, u, 'ext-' || a, e, 'synced' FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(a, u, e)`,
      [fresh.map((a) => a.id), users, fresh.map((a) => a.email)],
    );
    await db.query(
      `INSERT INTO graph_subscriptions (account_id, subscription_id, client_state_hash, resource, expires_at)
       SELECT a, s, h, 'me/messages', now() + interval '2 days'
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(a, s, h)`,
      [
        fresh.map((a) => a.id),
        fresh.map((a) => a.subscriptionId),
        fresh.map((a) => createHash('sha256').update(a.clientState, 'utf8').digest('hex')),
      ],
    );
    accounts.push(...fresh);
  };

  /** a notification for every account, 100 items a POST (as Graph batches them), plus forged ones to drop */
  const notifyAll = async (): Promise<number> => {
    let posts = 0;
    for (let i = 0; i < accounts.length; i += 100) {
      const value = accounts.slice(i, i + 100).map((a) => {
        const messageId = `AAMk-${randomBytes(6).toString('hex')}`;
        return {
          subscriptionId: a.subscriptionId,
          clientState: a.clientState,
          changeType: 'created',
          resource: `Users/${a.id}/Messages/${messageId}`,
          resourceData: { id: messageId },
        };
      });
      // one wrong clientState and one unknown subscription a POST: dropped, never a label
      value.push(
        { ...value[0], clientState: 'not-the-client-state' },
        { ...value[0], subscriptionId: `unknown-${randomUUID()}` },
      );
      const res = await fetch(`${producer}/api/v1/graph/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
      expect(res.status).toBe(202);
      posts += 1;
    }
    return posts;
  };

  /**
   * Until the consumer has taken every poke (its group's lag 0) and its message counters have not moved for 6 s:
   * the rounds the notifications asked for have run.
   */
  const settled = async (): Promise<void> => {
    let last = '';
    let stableSince = Date.now();
    await waitFor(
      async () => {
        const samples = await scrape(consumer);
        const lag = sumOf(samples, LAG, { group: ConsumerGroups.notifications });
        const handled = String(sumOf(samples, 'email_core_kafka_messages_total'));
        if (handled !== last || lag > 0) {
          last = handled;
          stableSince = Date.now();
          return undefined;
        }
        // longer than the lag gauge's 5 s cache: the lag seen is one read after the counters stopped
        return Date.now() - stableSince >= 6000 ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: "the consumer to finish the notifications' rounds" },
    );
  };

  /** the producer's samples once its database gauges (read at most every 5 s) count `n` accounts */
  const gaugesShow = (n: number): Promise<Sample[]> =>
    waitFor(
      async () => {
        const samples = await scrape(producer);
        return sumOf(samples, 'email_core_mail_accounts', { provider: 'outlook' }) === n
          ? samples
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: `the account gauge to count ${n}` },
    );

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      appEnv: { METRICS_TOKEN: TOKEN, LOG_LEVEL: 'warn', KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) },
    });
    producer = product.apis[0];
    consumer = `http://127.0.0.1:${product.env.CONSUMER_PORT}`;
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    // a first scrape of each: the scrape's own request is a series of the producer's from then on
    await scrape(producer);
    await scrape(consumer);
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  it(`the same series with ${MANY} accounts as with ${FEW}, on both apps; no account in any label`, async () => {
    await addAccounts(FEW);
    const fewPosts = await notifyAll();
    await settled();
    const few = { producer: await gaugesShow(FEW), consumer: await scrape(consumer) };
    expect(sumOf(few.producer, 'email_core_mail_accounts', { provider: 'outlook' })).toBe(FEW);
    expect(sumOf(few.producer, 'email_core_webhook_notifications_total', { outcome: 'accepted' })).toBe(FEW);

    await addAccounts(MANY - FEW);
    const manyPosts = await notifyAll();
    await settled();
    const many = { producer: await gaugesShow(MANY), consumer: await scrape(consumer) };

    // the scrapes saw the accounts and their traffic
    expect(sumOf(many.producer, 'email_core_mail_accounts', { provider: 'outlook' })).toBe(MANY);
    expect(sumOf(many.producer, 'email_core_graph_subscriptions')).toBe(MANY);
    const items = 'email_core_webhook_notifications_total';
    expect(sumOf(many.producer, items, { outcome: 'accepted' })).toBe(FEW + MANY);
    expect(sumOf(many.producer, items, { outcome: 'dropped_client_state_mismatch' })).toBe(
      fewPosts + manyPosts,
    );
    expect(sumOf(many.producer, items, { outcome: 'dropped_unknown_subscription' })).toBe(
      fewPosts + manyPosts,
    );
    expect(
      sumOf(many.consumer, 'email_core_kafka_messages_total', { topic: Topics.mailboxPokes }),
    ).toBeGreaterThanOrEqual(MANY);

    const report: Record<string, unknown> = {};
    for (const app of ['producer', 'consumer'] as const) {
      const before = few[app];
      const after = many[app];
      const product = (samples: Sample[]) =>
        new Set(samples.filter((s) => !RUNTIME.test(s.name) && s.name !== LAG).map(seriesKey));
      // the product's own series (but the lag's): exactly the same set
      const added = [...product(after)].filter((k) => !product(before).has(k));
      const gone = [...product(before)].filter((k) => !product(after).has(k));
      expect({ app, added, gone }).toEqual({ app, added: [], gone: [] });
      // the lag: one series per group, its topic and partition at most
      const lagSeries = after.filter((s) => s.name === LAG).length;
      expect(lagSeries).toBeLessThanOrEqual(Object.keys(ConsumerGroups).length * PARTITIONS);
      // Node's own: the same families, each within a few series of what it had
      const runtimeBefore = familyCounts(before.filter((s) => RUNTIME.test(s.name)));
      const runtimeAfter = familyCounts(after.filter((s) => RUNTIME.test(s.name)));
      expect([...runtimeAfter.keys()].sort()).toEqual([...runtimeBefore.keys()].sort());
      for (const [family, n] of runtimeAfter) {
        // a GC kind's series appear the first time that kind of collection runs (seen: a CI run's consumer grew
        // 14 bucket series between the scrapes): bounded by prom-client's four kinds, not by the accounts
        if (GC.test(family)) continue;
        expect({ family, grew: n - (runtimeBefore.get(family) ?? 0) <= 12 }).toEqual({ family, grew: true });
      }
      const gcKinds = new Set(after.filter((s) => GC.test(s.name)).map((s) => s.labels.kind));
      expect([...gcKinds].filter((k) => !['minor', 'major', 'incremental', 'weakcb'].includes(k))).toEqual(
        [],
      );
      // no label value names an account, a subscription, an address or a user
      const text = JSON.stringify(after.map((s) => s.labels));
      for (const a of accounts) {
        expect(text.includes(a.id) || text.includes(a.subscriptionId) || text.includes(a.email)).toBe(false);
      }
      report[app] = {
        [`seriesWith${FEW}`]: before.length,
        [`seriesWith${MANY}`]: after.length,
        lagSeries,
        pokesTaken: sumOf(after, 'email_core_kafka_messages_total', { topic: Topics.mailboxPokes }),
      };
    }
    process.stdout.write(`metrics cardinality: ${JSON.stringify(report)}\n`);
  }, 600_000);
});
