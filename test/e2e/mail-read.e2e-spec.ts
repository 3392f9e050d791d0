import { randomBytes, randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import type { Cluster } from 'ioredis';
import { Client } from 'pg';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import {
  apiCall,
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  waitFor,
  type SpawnedApp,
} from '@email-core/testing';
import { ADD_COUNTS_SQL, RECOUNT_SQL } from '../../libs/database/src/mail/mail-folders.repository';
import { SEARCH_VECTOR_SQL } from '../../libs/database/src/mail/messages.repository';

/**
 * The read API of the mail mirror (issue 4, "Reads"): the real producer process over a mailbox seeded straight
 * into Postgres (with the writer's own search-vector expression), the real Redis Cluster as its cache.
 */

interface Recipient {
  name: string;
  address: string;
}

interface SeedFolder {
  id: string;
  parentId: string;
  displayName: string;
  wellKnownName: string | null;
}

interface SeedMessage {
  id: string;
  folderId: string;
  subject: string;
  from: Recipient;
  to: Recipient[];
  cc: Recipient[];
  bodyPreview: string;
  /** ISO 8601, microseconds allowed (Postgres keeps them) */
  receivedAt: string;
  sentAt: string | null;
  isRead: boolean;
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
  importance: 'low' | 'normal' | 'high';
  hasAttachments: boolean;
  conversationId: string | null;
  bodyType: 'html' | 'text';
  body: string;
}

interface ApiFolder {
  id: string;
  parentId: string | null;
  displayName: string;
  wellKnownName: string | null;
  totalCount: number;
  unreadCount: number;
}

interface ApiMessage {
  id: string;
  folderId: string;
  subject: string;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bodyPreview: string;
  receivedAt: string;
  sentAt: string | null;
  isRead: boolean;
  flagStatus: string;
  importance: string;
  hasAttachments: boolean;
  conversationId: string | null;
  body?: { contentType: string; content: string } | null;
}

interface Page {
  items: ApiMessage[];
  nextCursor: string | null;
}

interface ApiError {
  error: string;
  message: string;
}

const SENDERS: Recipient[] = [
  { name: 'Alice Smith', address: 'alice@contoso.example' },
  { name: 'Bob Jones', address: 'bob@fabrikam.example' },
  { name: 'Carol White', address: 'carol@contoso.example' },
  { name: '100% Deals', address: 'deals@shop.example' },
  { name: 'Dan Brown', address: 'dan@northwind.example' },
];
const TOPICS = [
  'budget review',
  'team offsite',
  'release notes',
  'invoice',
  'weekly sync',
  'security update',
];
const BODY_ONLY_WORD = 'xylophonequartz';

/** deterministic pseudo-random numbers, so a failure reproduces */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Graph-like immutable ids: base64url-ish with `-`, `_` and `=` padding, which the API must take in a path */
const graphId = (tag: string, n: number) => `AAMk-${tag}_${n.toString(36).padStart(4, '0')}AAA=`;

const factory = {
  folder: (id: string, overrides: Partial<SeedFolder> = {}): SeedFolder => ({
    id,
    parentId: 'AAMk-msgfolderroot=',
    displayName: id,
    wellKnownName: null,
    ...overrides,
  }),
  message: (overrides: Partial<SeedMessage> & Pick<SeedMessage, 'id' | 'folderId'>): SeedMessage => ({
    subject: 'hello',
    from: SENDERS[0],
    to: [{ name: 'Me', address: 'me@contoso.example' }],
    cc: [],
    bodyPreview: 'hello there',
    receivedAt: '2025-01-01T00:00:00.000Z',
    sentAt: null,
    isRead: false,
    flagStatus: 'notFlagged',
    importance: 'normal',
    hasAttachments: false,
    conversationId: null,
    bodyType: 'text',
    body: 'hello there',
    ...overrides,
  }),
};

/** ~300 messages over four folders (one nested) and an empty one, with ties and microsecond neighbours */
function seedMailboxA(tag: string): { folders: SeedFolder[]; messages: SeedMessage[] } {
  const inbox = factory.folder(`AAMk-${tag}-inbox=`, { displayName: 'Inbox', wellKnownName: 'inbox' });
  const projects = factory.folder(`AAMk-${tag}-projects=`, { displayName: 'Projects', parentId: inbox.id });
  const archive = factory.folder(`AAMk-${tag}-archive=`, {
    displayName: 'Archive',
    wellKnownName: 'archive',
  });
  const sent = factory.folder(`AAMk-${tag}-sent=`, { displayName: 'Sent Items', wellKnownName: 'sentitems' });
  const receipts = factory.folder(`AAMk-${tag}-receipts=`, {
    displayName: 'Receipts',
    parentId: projects.id,
  });
  const folders = [sent, receipts, archive, projects, inbox];
  const spread: Array<[SeedFolder, number]> = [
    [inbox, 140],
    [projects, 60],
    [archive, 60],
    [sent, 40],
  ];
  const random = rng(2026);
  const messages: SeedMessage[] = [];
  const base = Date.parse('2025-01-01T00:00:00Z');
  let n = 0;
  for (const [folder, count] of spread) {
    for (let i = 0; i < count; i++, n++) {
      // every 9th message shares its received time with the one before: the id breaks the tie
      const minutes = n % 9 === 8 ? n - 1 : n;
      const receivedAt = new Date(base + minutes * 37 * 60_000 + Math.floor(random() * 1000)).toISOString();
      const from = SENDERS[n % SENDERS.length];
      const topic = TOPICS[n % TOPICS.length];
      const html = n % 4 === 0;
      const text = `Hi, about the ${topic} (message ${n}). Regards, ${from.name}`;
      messages.push(
        factory.message({
          id: graphId(tag, n),
          folderId: folder.id,
          subject: `${topic} #${n}`,
          from,
          to: [{ name: 'Me', address: 'me@contoso.example' }],
          cc: n % 6 === 0 ? [{ name: 'Team', address: 'team@contoso.example' }] : [],
          bodyPreview: text.slice(0, 40),
          receivedAt,
          sentAt: new Date(Date.parse(receivedAt) - 60_000).toISOString(),
          isRead: n % 3 !== 0,
          flagStatus: n % 7 === 0 ? 'flagged' : n % 11 === 0 ? 'complete' : 'notFlagged',
          importance: n % 10 === 0 ? 'high' : n % 13 === 0 ? 'low' : 'normal',
          hasAttachments: n % 5 === 0,
          conversationId: `conv-${n % 40}`,
          bodyType: html ? 'html' : 'text',
          body: html ? `<html><body><p>${text}</p></body></html>` : text,
        }),
      );
    }
  }
  // three messages microseconds apart: a cursor that kept only milliseconds would skip two of them
  for (let k = 1; k <= 3; k++, n++) {
    messages.push(
      factory.message({
        id: graphId(tag, n),
        folderId: archive.id,
        subject: `micro ${k}`,
        from: { name: 'Micro Sender', address: 'micro@tick.example' },
        receivedAt: `2024-12-31T12:00:00.00000${k}Z`,
      }),
    );
  }
  // one word that only a body holds (inside HTML)
  messages.push(
    factory.message({
      id: graphId(tag, n++),
      folderId: projects.id,
      subject: 'nothing special here',
      bodyPreview: 'nothing special',
      bodyType: 'html',
      body: `<div><b>The secret word is</b> <i>${BODY_ONLY_WORD}</i>.</div>`,
      receivedAt: '2024-12-30T09:00:00.000Z',
    }),
  );
  return { folders, messages };
}

async function insertMailbox(
  db: Client,
  accountId: string,
  folders: SeedFolder[],
  messages: SeedMessage[],
): Promise<void> {
  await db.query(
    `INSERT INTO mail_folders (account_id, remote_id, parent_remote_id, display_name, well_known_name, total_count)
     SELECT $1, f.id, f.parent_id, f.display_name, f.well_known_name, 999
     FROM jsonb_to_recordset($2::jsonb) AS f(id text, parent_id text, display_name text, well_known_name text)`,
    [
      accountId,
      JSON.stringify(
        folders.map((f) => ({
          id: f.id,
          parent_id: f.parentId,
          display_name: f.displayName,
          well_known_name: f.wellKnownName,
        })),
      ),
    ],
  );
  const rows = messages.map((m) => ({
    remote_id: m.id,
    folder_remote_id: m.folderId,
    subject: m.subject,
    from_name: m.from.name,
    from_address: m.from.address,
    to_recipients: m.to,
    cc_recipients: m.cc,
    body_preview: m.bodyPreview,
    received_at: m.receivedAt,
    sent_at: m.sentAt,
    is_read: m.isRead,
    flag_status: m.flagStatus,
    importance: m.importance,
    has_attachments: m.hasAttachments,
    conversation_id: m.conversationId,
    body_type: m.bodyType,
    body_content: m.body,
  }));
  // the search vector through the writer's own expression (libs/database/src/mail), so search sees what sync writes
  await db.query(
    `WITH r AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(
         remote_id text, folder_remote_id text, subject text, from_name text, from_address text, to_recipients jsonb,
         cc_recipients jsonb, body_preview text, received_at timestamptz, sent_at timestamptz, is_read boolean,
         flag_status text, importance text, has_attachments boolean, conversation_id text, body_type text,
         body_content text)
     ), m AS (
       INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, subject, from_name, from_address,
         to_recipients, cc_recipients, body_preview, received_at, sent_at, is_read, flag_status, importance,
         has_attachments, conversation_id, search)
       SELECT $1, r.remote_id, r.folder_remote_id, 'ck1', r.subject, r.from_name, r.from_address, r.to_recipients,
         r.cc_recipients, r.body_preview, r.received_at, r.sent_at, r.is_read, r.flag_status, r.importance,
         r.has_attachments, r.conversation_id, ${SEARCH_VECTOR_SQL('r')}
       FROM r
       RETURNING remote_id
     )
     INSERT INTO message_bodies (account_id, remote_id, content_type, content)
     SELECT $1, r.remote_id, r.body_type, r.body_content FROM r JOIN m USING (remote_id)`,
    [accountId, JSON.stringify(rows)],
  );
  // The API answers the stored folder counts, which the writers keep with the rows they write. The seed is no
  // writer (its folders say total_count 999): it settles them as a writer's full recount does.
  await db.query(RECOUNT_SQL(false), [accountId]);
}

describe('mail reads: folders, pages, filters, search, one message, ownership, cache, OpenAPI', () => {
  const run = currentTestRun();
  const jwtSecret = randomBytes(32).toString('hex');
  const jwt = new JwtService({ secret: jwtSecret });
  const tag = randomBytes(3).toString('hex');
  const userA = randomUUID();
  const userB = randomUUID();
  const accountA = randomUUID();
  const accountA2 = randomUUID();
  const accountB = randomUUID();
  const mailboxA = seedMailboxA(tag);
  const folderB = factory.folder(`AAMk-${tag}-b-inbox=`, { displayName: 'Inbox', wellKnownName: 'inbox' });
  const messagesB = Array.from({ length: 5 }, (_, i) =>
    factory.message({ id: graphId(`${tag}b`, i), folderId: folderB.id, subject: `B's mail ${i}` }),
  );
  // A's second account holds a message with the same Graph id as one of the first: ids are per account
  const sharedId = mailboxA.messages[0].id;
  const folderA2 = factory.folder(`AAMk-${tag}-a2-inbox=`, { displayName: 'Inbox', wellKnownName: 'inbox' });
  const messagesA2 = [
    factory.message({ id: sharedId, folderId: folderA2.id, subject: 'second account copy' }),
  ];

  const env = {
    ...testRunEnv(run),
    JWT_SECRET: jwtSecret,
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    MS_CLIENT_ID: 'x',
    MS_CLIENT_SECRET: 'xxxxxxxxxx',
  };
  const started: SpawnedApp[] = [];
  let api: string;
  let db: Client;
  let redis: Cluster;

  const token = (sub: string) =>
    jwt.sign(
      { sub, email: `${sub}@example.test`, typ: 'access' },
      { algorithm: 'HS256', issuer: 'email-core', expiresIn: '15m' },
    );
  const tokenA = token(userA);
  const tokenB = token(userB);
  const get = <T>(path: string, bearer = tokenA, base = api) =>
    apiCall<T>(base, 'GET', path, { token: bearer });

  const messagesPath = (accountId: string, query: Record<string, string | number | boolean> = {}) => {
    const qs = new URLSearchParams(
      Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    return `/api/v1/accounts/${accountId}/messages${qs ? `?${qs}` : ''}`;
  };

  /** every page of a listing, following nextCursor; fails on a repeated id */
  async function walk(
    accountId: string,
    query: Record<string, string | number | boolean>,
    bearer = tokenA,
  ): Promise<{ items: ApiMessage[]; pages: number }> {
    const items: ApiMessage[] = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Page } = await get<Page>(
        messagesPath(accountId, { ...query, ...(cursor ? { cursor } : {}) }),
        bearer,
      );
      expect(res.status).toBe(200);
      pages++;
      for (const m of res.body.items) {
        expect(seen.has(m.id)).toBe(false);
        seen.add(m.id);
        items.push(m);
      }
      cursor = res.body.nextCursor;
      expect(pages).toBeLessThan(400);
    } while (cursor);
    return { items, pages };
  }

  /** the ids the database itself orders newest first, for the given predicate on A's messages */
  async function expectedOrder(predicate: (m: SeedMessage) => boolean): Promise<string[]> {
    const ids = mailboxA.messages.filter(predicate).map((m) => m.id);
    const { rows } = await db.query<{ remote_id: string }>(
      `SELECT remote_id FROM messages WHERE account_id = $1 AND remote_id = ANY($2)
       ORDER BY received_at DESC, remote_id DESC`,
      [accountA, ids],
    );
    return rows.map((r) => r.remote_id);
  }

  beforeAll(async () => {
    db = new Client({ connectionString: run.databaseUrl });
    await db.connect();
    redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });

    await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x'), ($3, $4, 'x')`, [
      userA,
      `a-${tag}@example.test`,
      userB,
      `b-${tag}@example.test`,
    ]);
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, status)
       VALUES ($1, $2, $3, 'a@contoso.example', 'synced'), ($4, $2, $5, 'a2@contoso.example', 'synced'),
              ($6, $7, $8, 'b@contoso.example', 'synced')`,
      [accountA, userA, `ext-a-${tag}`, accountA2, `ext-a2-${tag}`, accountB, userB, `ext-b-${tag}`],
    );
    await insertMailbox(db, accountA, mailboxA.folders, mailboxA.messages);
    await insertMailbox(db, accountA2, [folderA2], messagesA2);
    await insertMailbox(db, accountB, [folderB], messagesB);

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const producer = spawnApp('producer', { ...env, PRODUCER_PORT: String(port) });
    started.push(producer);
    await waitFor(
      async () => {
        if (producer.child.exitCode !== null) throw new Error(`producer exited: ${producer.output()}`);
        return (await get(`/api/v1/accounts/${accountA}/folders`)).status === 200 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: 'the producer to serve reads' },
    );
  }, 90000);

  afterAll(async () => {
    await Promise.all(started.map((a) => a.stop()));
    await db?.end();
    redis?.disconnect();
  });

  it('lists the folders in tree order, nested ones under their parent, with the counts the writers store', async () => {
    const res = await get<{ items: ApiFolder[] }>(`/api/v1/accounts/${accountA}/folders`);
    expect(res.status).toBe(200);
    const folders = res.body.items;
    const [sent, receipts, archive, projects, inbox] = mailboxA.folders.map((f) => f.id);
    expect(folders.map((f) => [f.id, f.parentId])).toEqual([
      [inbox, null],
      [projects, inbox],
      [receipts, projects],
      [sent, null],
      [archive, null],
    ]);
    // the stored counts, as the writer left them (seeded as 999, then settled by the writer's recount)...
    const stored = await db.query<{ id: string; total: number; unread: number }>(
      `SELECT remote_id AS id, total_count AS total, unread_count AS unread FROM mail_folders WHERE account_id = $1`,
      [accountA],
    );
    expect(folders.map((f) => ({ id: f.id, total: f.totalCount, unread: f.unreadCount }))).toEqual(
      expect.arrayContaining(stored.rows),
    );
    expect(stored.rows).toHaveLength(folders.length);
    for (const f of folders) {
      const mine = mailboxA.messages.filter((m) => m.folderId === f.id);
      // ...which are exact: the folder's messages
      expect({ id: f.id, total: f.totalCount, unread: f.unreadCount }).toEqual({
        id: f.id,
        total: mine.length,
        unread: mine.filter((m) => !m.isRead).length,
      });
    }
    expect(folders.find((f) => f.id === receipts)).toMatchObject({ totalCount: 0, unreadCount: 0 });
    expect(folders[0]).toEqual({
      id: inbox,
      parentId: null,
      displayName: 'Inbox',
      wellKnownName: 'inbox',
      totalCount: 140,
      unreadCount: expect.any(Number) as number,
    });
  });

  it('walks every message of each folder exactly once, newest first, whatever the page size', async () => {
    for (const folder of mailboxA.folders) {
      const expected = await expectedOrder((m) => m.folderId === folder.id);
      for (const limit of [7, 50, 200]) {
        const { items, pages } = await walk(accountA, { folderId: folder.id, limit });
        expect(items.map((m) => m.id)).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    }
    // the default page is 50 rows, and the whole account (no folder) walks all of it too
    const first = await get<Page>(messagesPath(accountA));
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const all = await walk(accountA, { limit: 200 });
    expect(all.items.map((m) => m.id)).toEqual(await expectedOrder(() => true));
    const times = all.items.map((m) => Date.parse(m.receivedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('keeps microseconds in the cursor, so neighbours a microsecond apart are all seen', async () => {
    const { items, pages } = await walk(accountA, { from: 'micro@tick.example', limit: 1 });
    expect(items.map((m) => m.subject)).toEqual(['micro 3', 'micro 2', 'micro 1']);
    expect(pages).toBe(3);
  });

  it('maps every column of a message', async () => {
    const seeded = mailboxA.messages[6];
    const { items } = await walk(accountA, { folderId: seeded.folderId, limit: 200 });
    const item = items.find((m) => m.id === seeded.id);
    expect(item).toEqual({
      id: seeded.id,
      folderId: seeded.folderId,
      subject: seeded.subject,
      from: seeded.from,
      toRecipients: seeded.to,
      ccRecipients: seeded.cc,
      bodyPreview: seeded.bodyPreview,
      receivedAt: new Date(seeded.receivedAt).toISOString(),
      sentAt: seeded.sentAt,
      isRead: seeded.isRead,
      flagStatus: seeded.flagStatus,
      importance: seeded.importance,
      hasAttachments: seeded.hasAttachments,
      conversationId: seeded.conversationId,
    });
  });

  it('applies each filter, alone and combined with a folder', async () => {
    const [, , archive, , inbox] = mailboxA.folders.map((f) => f.id);
    const inRange = (m: SeedMessage) =>
      Date.parse(m.receivedAt) >= Date.parse('2025-01-03T00:00:00Z') &&
      Date.parse(m.receivedAt) < Date.parse('2025-01-05T00:00:00Z');
    const cases: Array<[Record<string, string | boolean>, (m: SeedMessage) => boolean]> = [
      [{ unread: true }, (m) => !m.isRead],
      [{ unread: false }, (m) => m.isRead],
      [{ flagged: true }, (m) => m.flagStatus === 'flagged'],
      [{ flagged: false }, (m) => m.flagStatus !== 'flagged'],
      [{ hasAttachments: true }, (m) => m.hasAttachments],
      [{ hasAttachments: '0' }, (m) => !m.hasAttachments],
      [{ from: 'bob@fabrikam.example' }, (m) => m.from.address === 'bob@fabrikam.example'],
      [{ from: 'CONTOSO' }, (m) => m.from.address.includes('contoso')],
      [{ from: 'carol white' }, (m) => m.from.name === 'Carol White'],
      // % is literal, not a wildcard
      [{ from: '100%' }, (m) => m.from.name === '100% Deals'],
      // words of the name or address from their start: a domain, the start of a name
      [{ from: 'contoso.example' }, (m) => m.from.address.endsWith('@contoso.example')],
      [{ from: 'car' }, (m) => m.from.name === 'Carol White'],
      [{ after: '2025-01-03T00:00:00Z', before: '2025-01-05T00:00:00Z' }, inRange],
      [
        { after: '2025-01-03T01:00:00+01:00' },
        (m) => Date.parse(m.receivedAt) >= Date.parse('2025-01-03T00:00:00Z'),
      ],
      [
        { before: '2025-01-02T00:00:00.000Z' },
        (m) => Date.parse(m.receivedAt) < Date.parse('2025-01-02T00:00:00Z'),
      ],
      [
        { folderId: inbox, unread: true, hasAttachments: true },
        (m) => m.folderId === inbox && !m.isRead && m.hasAttachments,
      ],
      [
        { folderId: archive, flagged: true, from: 'alice' },
        (m) => m.folderId === archive && m.flagStatus === 'flagged' && m.from.name.startsWith('Alice'),
      ],
    ];
    for (const [query, predicate] of cases) {
      const expected = await expectedOrder(predicate);
      expect(expected.length).toBeGreaterThan(0);
      const { items } = await walk(accountA, { ...query, limit: 40 });
      expect({ query, ids: items.map((m) => m.id) }).toEqual({ query, ids: expected });
    }
    // the sender filter matches words from their start, in the sender only: not inside a word ('arol'), not a
    // recipient (me@contoso.example is only ever a recipient)
    for (const from of ['arol', 'ontoso', 'me@contoso.example']) {
      expect({ from, items: (await walk(accountA, { from })).items }).toEqual({ from, items: [] });
    }
  });

  it('searches subject, sender and body (websearch syntax), combined with filters', async () => {
    const bodyOnly = await walk(accountA, { q: BODY_ONLY_WORD });
    expect(bodyOnly.items.map((m) => m.subject)).toEqual(['nothing special here']);
    expect(bodyOnly.items[0].bodyPreview).not.toContain(BODY_ONLY_WORD);

    const invoices = await walk(accountA, { q: 'invoice', limit: 200 });
    expect(invoices.items.map((m) => m.id)).toEqual(
      await expectedOrder((m) => m.subject.includes('invoice')),
    );

    const phrase = await walk(accountA, { q: '"budget review" -alice', unread: true });
    expect(phrase.items.map((m) => m.id)).toEqual(
      await expectedOrder(
        (m) => m.subject.startsWith('budget review') && !m.isRead && !m.from.name.includes('Alice'),
      ),
    );

    const bySender = await walk(accountA, { q: 'northwind' });
    expect(bySender.items.map((m) => m.id)).toEqual(await expectedOrder((m) => m.from.name === 'Dan Brown'));

    const none = await get<Page>(messagesPath(accountA, { q: 'nosuchwordanywhere' }));
    expect(none.body).toEqual({ items: [], nextCursor: null });
  });

  it('returns one message with its full body; ids with =, - and _ work URL-encoded', async () => {
    const html = mailboxA.messages.find((m) => m.bodyType === 'html')!;
    expect(html.id).toMatch(/[-_=]/);
    const res = await get<ApiMessage>(`/api/v1/accounts/${accountA}/messages/${encodeURIComponent(html.id)}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: html.id, folderId: html.folderId, subject: html.subject });
    expect(res.body.body).toEqual({ contentType: 'html', content: html.body });

    const text = mailboxA.messages.find((m) => m.bodyType === 'text')!;
    const plain = await get<ApiMessage>(
      `/api/v1/accounts/${accountA}/messages/${encodeURIComponent(text.id)}`,
    );
    expect(plain.body.body).toEqual({ contentType: 'text', content: text.body });

    // the same Graph id in A's other account is another message
    const copy = await get<ApiMessage>(
      `/api/v1/accounts/${accountA2}/messages/${encodeURIComponent(sharedId)}`,
    );
    expect(copy.body.subject).toBe('second account copy');
  });

  it("answers 404 for anything that is not the caller's, even after the owner's read was cached", async () => {
    const messageA = mailboxA.messages[0];
    const folderA = mailboxA.folders[0];
    // A reads first, so these results sit in the cache
    expect((await get(`/api/v1/accounts/${accountA}/folders`)).status).toBe(200);
    expect((await get(messagesPath(accountA, { folderId: folderA.id }))).status).toBe(200);
    expect(
      (await get(`/api/v1/accounts/${accountA}/messages/${encodeURIComponent(messageA.id)}`)).status,
    ).toBe(200);

    const cases: Array<[string, string, string]> = [
      [`/api/v1/accounts/${accountA}/folders`, tokenB, 'ACCOUNT_NOT_FOUND'],
      [messagesPath(accountA), tokenB, 'ACCOUNT_NOT_FOUND'],
      [messagesPath(accountA, { folderId: folderA.id }), tokenB, 'ACCOUNT_NOT_FOUND'],
      [
        `/api/v1/accounts/${accountA}/messages/${encodeURIComponent(messageA.id)}`,
        tokenB,
        'ACCOUNT_NOT_FOUND',
      ],
      // A's message id under B's own account
      [
        `/api/v1/accounts/${accountB}/messages/${encodeURIComponent(messageA.id)}`,
        tokenB,
        'MESSAGE_NOT_FOUND',
      ],
      // A's folder under B's own account
      [messagesPath(accountB, { folderId: folderA.id }), tokenB, 'FOLDER_NOT_FOUND'],
      [`/api/v1/accounts/${accountB}/folders`, tokenA, 'ACCOUNT_NOT_FOUND'],
      [`/api/v1/accounts/${randomUUID()}/folders`, tokenA, 'ACCOUNT_NOT_FOUND'],
      [`/api/v1/accounts/not-a-uuid/folders`, tokenA, 'ACCOUNT_NOT_FOUND'],
      [`/api/v1/accounts/not-a-uuid/messages/x`, tokenA, 'ACCOUNT_NOT_FOUND'],
      [messagesPath(accountA, { folderId: 'AAMk-no-such-folder=' }), tokenA, 'FOLDER_NOT_FOUND'],
      [
        `/api/v1/accounts/${accountA}/messages/${encodeURIComponent('AAMk-nope=')}`,
        tokenA,
        'MESSAGE_NOT_FOUND',
      ],
    ];
    for (const [path, bearer, code] of cases) {
      const res = await get<ApiError>(path, bearer);
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 404, error: code });
    }

    // B still reads B's own mail
    const own = await walk(accountB, {}, tokenB);
    expect(own.items.map((m) => m.subject).sort()).toEqual(messagesB.map((m) => m.subject).sort());
  });

  it('refuses bad input with 400 VALIDATION_FAILED and a missing or foreign token with 401', async () => {
    const bad: Array<Record<string, string>> = [
      { limit: '0' },
      { limit: '201' },
      { limit: 'ten' },
      { unread: 'maybe' },
      { after: 'yesterday' },
      { after: '2025-02-01T00:00:00Z', before: '2025-01-01T00:00:00Z' },
      { cursor: 'definitely-not-a-cursor' },
      { unred: 'true' },
    ];
    for (const query of bad) {
      const res = await get<ApiError & { details?: unknown }>(messagesPath(accountA, query));
      expect({ query, status: res.status, error: res.body.error }).toEqual({
        query,
        status: 400,
        error: 'VALIDATION_FAILED',
      });
    }
    const repeated = await get<ApiError>(`/api/v1/accounts/${accountA}/messages?folderId=a&folderId=b`);
    expect(repeated.status).toBe(400);

    expect((await apiCall(api, 'GET', `/api/v1/accounts/${accountA}/folders`)).status).toBe(401);
    const forged = new JwtService({ secret: 'another-secret-another-secret-123' }).sign(
      { sub: userA, email: 'a@example.test', typ: 'access' },
      { algorithm: 'HS256', issuer: 'email-core', expiresIn: '15m' },
    );
    const res = await get<ApiError>(`/api/v1/accounts/${accountA}/folders`, forged);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('UNAUTHENTICATED');
  });

  it('serves cached reads from Redis until the account version moves, then reads the change', async () => {
    const target = mailboxA.messages[10];
    const path = `/api/v1/accounts/${accountA}/messages/${encodeURIComponent(target.id)}`;
    const cachedKeys = async () => {
      const keys: string[] = [];
      for (const node of redis.nodes('master')) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            `${run.redisKeyPrefix}{acct:${accountA}}:q:*`,
            'COUNT',
            1000,
          );
          cursor = next;
          keys.push(...found.map((k) => k.slice(run.redisKeyPrefix.length)));
        } while (cursor !== '0');
      }
      return keys;
    };
    const versionKey = CacheKeys.accountVersion(accountA);
    const version = Number((await redis.get(versionKey)) ?? 0);

    const first = await get<ApiMessage>(path);
    expect(first.body.subject).toBe(target.subject);
    const keys = await cachedKeys();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`{acct:${accountA}}:q:${version}:`))).toBe(true);
    const ttl = await redis.ttl(keys[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);

    // a write the consumer has not announced yet (the row, and its folder's counts as a writer keeps them): the
    // cached answers stand
    const foldersBefore = await get<{ items: ApiFolder[] }>(`/api/v1/accounts/${accountA}/folders`);
    const unreadChange = target.isRead ? 1 : -1;
    await db.query(
      `UPDATE messages SET subject = 'changed behind the cache', is_read = NOT is_read
       WHERE account_id = $1 AND remote_id = $2`,
      [accountA, target.id],
    );
    await db.query(ADD_COUNTS_SQL, [accountA, [target.folderId], [0], [unreadChange]]);
    expect((await get<ApiMessage>(path)).body.subject).toBe(target.subject);
    expect((await get<{ items: ApiFolder[] }>(`/api/v1/accounts/${accountA}/folders`)).body).toEqual(
      foldersBefore.body,
    );

    // the consumer's INCR after its write batch: every cached answer of the account is unreachable at once
    await redis.incr(versionKey);
    const after = await get<ApiMessage>(path);
    expect(after.body).toMatchObject({ subject: 'changed behind the cache', isRead: !target.isRead });
    const foldersAfter = await get<{ items: ApiFolder[] }>(`/api/v1/accounts/${accountA}/folders`);
    const unread = (r: { items: ApiFolder[] }) => r.items.find((f) => f.id === target.folderId)!.unreadCount;
    expect(unread(foldersAfter.body) - unread(foldersBefore.body)).toBe(unreadChange);
    expect((await cachedKeys()).some((k) => k.startsWith(`{acct:${accountA}}:q:${version + 1}:`))).toBe(true);

    await db.query(
      `UPDATE messages SET subject = $3, is_read = $4 WHERE account_id = $1 AND remote_id = $2`,
      [accountA, target.id, target.subject, target.isRead],
    );
    await db.query(ADD_COUNTS_SQL, [accountA, [target.folderId], [0], [-unreadChange]]);
    await redis.incr(versionKey);
  });

  it('answers from Postgres when the Redis Cluster is unreachable', async () => {
    const port = await freePort();
    const closed = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const producer = spawnApp('producer', {
      ...env,
      PRODUCER_PORT: String(port),
      REDIS_CLUSTER_NODES: `127.0.0.1:${closed}`,
    });
    started.push(producer);
    const folders = await waitFor(
      async () => {
        if (producer.child.exitCode !== null) throw new Error(`producer exited: ${producer.output()}`);
        const res = await get<{ items: ApiFolder[] }>(`/api/v1/accounts/${accountA}/folders`, tokenA, base);
        return res.status === 200 ? res.body : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: 'reads without Redis' },
    );
    expect(folders.items).toHaveLength(mailboxA.folders.length);
    const t0 = Date.now();
    const page = await get<Page>(messagesPath(accountA, { q: BODY_ONLY_WORD }), tokenA, base);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await get(`/api/v1/accounts/${accountA}/folders`, tokenB, base)).status).toBe(404);
    await producer.stop();
  }, 90000);

  it('publishes the OpenAPI document with the read routes, their query parameters and bearer auth', async () => {
    const res = await fetch(`${api}/api/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<
        string,
        { get?: { parameters?: Array<{ name: string; in: string }>; security?: unknown } }
      >;
      components: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
    };
    const params = (path: string) => (doc.paths[path]?.get?.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(params('/api/v1/accounts/{accountId}/folders')).toEqual(['path:accountId']);
    expect(params('/api/v1/accounts/{accountId}/messages').sort()).toEqual(
      [
        'path:accountId',
        ...[
          'folderId',
          'unread',
          'flagged',
          'hasAttachments',
          'from',
          'after',
          'before',
          'q',
          'limit',
          'cursor',
        ].map((n) => `query:${n}`),
      ].sort(),
    );
    expect(params('/api/v1/accounts/{accountId}/messages/{messageId}').sort()).toEqual([
      'path:accountId',
      'path:messageId',
    ]);
    expect(doc.paths['/api/v1/accounts/{accountId}/messages']?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });

    const ui = await fetch(`${api}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});
