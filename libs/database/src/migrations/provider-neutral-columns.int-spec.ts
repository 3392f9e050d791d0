import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { currentTestRun } from '@email-core/testing';
import { runMigrationsLocked } from '../migrate';
import { MailChangesRepository } from '../live/mail-changes.repository';
import { MailReadRepository } from '../mail-read/mail-read.repository';
import { decodeMessageCursor } from '../mail-read/message-cursor';
import { MailFoldersRepository } from '../mail/mail-folders.repository';
import { MessagesRepository } from '../mail/messages.repository';
import { migrations } from '.';
import { ProviderNeutralColumns1764320000000 } from './1764320000000-provider-neutral-columns';

/**
 * The rename to provider-neutral columns (issue 17) on a database filled by the schema before it: every row of
 * every table is still there, value for value, under the new names; the code reads the mirror (folders and
 * their cursors, messages, bodies, the change log) and writes it (cascades, a rebuild) through the new names;
 * and `down()` gives back the old schema and the same rows.
 */

/** what the migration must rename, spelled out here rather than taken from it: [table][old] = new */
const RENAMED: Record<string, Record<string, string>> = {
  mail_folders: {
    graph_id: 'remote_id',
    parent_graph_id: 'parent_remote_id',
    delta_link: 'cursor',
    next_link: 'next_cursor',
  },
  messages: { graph_id: 'remote_id', folder_graph_id: 'folder_remote_id' },
  message_bodies: { graph_id: 'remote_id' },
  mail_changes: { message_graph_id: 'message_remote_id', folder_graph_id: 'folder_remote_id' },
  folder_rebuild_seen: { graph_id: 'remote_id', folder_graph_id: 'folder_remote_id' },
};

const FOLDERS = ['inbox', 'archive', 'sentitems', 'projects', 'projects-2026'] as const;
const PER_FOLDER = 120;
/** a body far past one page of Postgres (TOASTed), with quotes, a NUL-free mix of scripts and an emoji */
const BIG_BODY = `<html><body>${'<p>Grüße, "quoted" it\'s — 東京 ✉️ </p>\n'.repeat(12000)}</body></html>`;

type Rows = Record<string, string[]>;
interface SchemaShape {
  columns: string[];
  constraints: string[];
  indexes: string[];
  comments: string[];
}

async function dumpRows(db: Client): Promise<Rows> {
  const tables = (
    await db.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
        ORDER BY 1`,
    )
  ).rows.map((r) => r.t);
  const out: Rows = {};
  for (const t of tables) {
    const { rows } = await db.query<{ r: Record<string, unknown> }>(`SELECT to_jsonb(x) AS r FROM ${t} x`);
    out[t] = rows.map((row) => JSON.stringify(sortKeys(row.r))).sort();
  }
  return out;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

/** the rows as they must read after the rename: the same values under the new column names */
function renamed(rows: Rows): Rows {
  const out: Rows = {};
  for (const [table, list] of Object.entries(rows)) {
    const map = RENAMED[table] ?? {};
    out[table] = list
      .map((json) => {
        const row = JSON.parse(json) as Record<string, unknown>;
        return JSON.stringify(
          sortKeys(Object.fromEntries(Object.entries(row).map(([k, v]) => [map[k] ?? k, v]))),
        );
      })
      .sort();
  }
  return out;
}

async function schemaShape(db: Client): Promise<SchemaShape> {
  const col = await db.query<{ s: string }>(
    `SELECT concat_ws(' ', table_name, ordinal_position, column_name, data_type, is_nullable, column_default) AS s
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'migrations'`,
  );
  const con = await db.query<{ s: string }>(
    `SELECT concat_ws(' ', conrelid::regclass::text, conname, pg_get_constraintdef(oid)) AS s
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 'migrations'::regclass
     `,
  );
  const idx = await db.query<{ s: string }>(
    `SELECT indexdef AS s FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  const com = await db.query<{ s: string }>(
    `SELECT concat_ws(' ', c.relname, a.attname, d.description) AS s
       FROM pg_description d
       JOIN pg_class c ON c.oid = d.objoid
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
      WHERE c.relnamespace = 'public'::regnamespace`,
  );
  const sorted = (rows: Array<{ s: string }>) => rows.map((r) => r.s).sort();
  return {
    columns: sorted(col.rows),
    constraints: sorted(con.rows),
    indexes: sorted(idx.rows),
    comments: sorted(com.rows),
  };
}

/** today's shape, written with today's column names */
async function fillOldSchema(db: Client, ids: { users: string[]; accounts: string[] }): Promise<void> {
  const [alice, bob] = ids.users;
  const [a1, a2] = ids.accounts;
  for (const u of ids.users) {
    await db.query(`INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, 'scrypt$x', 'user')`, [
      u,
      `${u}@example.test`,
    ]);
    await db.query(
      `INSERT INTO refresh_sessions (id, user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $1, $3, now() + interval '1 day')`,
      [randomUUID(), u, `hash-${u}`],
    );
  }
  for (const [account, user, status] of [
    [a1, alice, 'synced'],
    [a2, bob, 'syncing'],
  ] as const) {
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, display_name, status, token_key_id,
                                  access_token_enc, access_token_expires_at, refresh_token_enc, token_version,
                                  sync_started_at, sync_completed_at, change_seq)
       VALUES ($1, $2, $3, $4, 'Name', $5, 'k1', 'v1.sealed-access', now() + interval '1 hour',
               'v1.sealed-refresh', 3, now() - interval '1 hour', CASE WHEN $5 = 'synced' THEN now() END, 7)`,
      [account, user, `ext-${account}`, `${account}@contoso.test`, status],
    );
    for (const [i, f] of FOLDERS.entries()) {
      // a1: every folder synced (deltaLink), one mid-round (nextLink too); a2: mid-initial-sync (nextLink only)
      const delta =
        account === a1
          ? `https://graph.microsoft.com/v1.0/me/mailFolders('${f}')/messages/delta?$deltatoken=${f}-${i}`
          : null;
      const next =
        account === a2 || f === 'archive'
          ? `https://graph.microsoft.com/v1.0/me/mailFolders('${f}')/messages/delta?$skiptoken=${f}-skip`
          : null;
      await db.query(
        `INSERT INTO mail_folders (account_id, graph_id, parent_graph_id, display_name, well_known_name,
                                   total_count, unread_count, next_link, delta_link, synced_at, rebuilding)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10)`,
        [
          account,
          `AAMk-${f}`,
          f === 'projects-2026' ? 'AAMk-projects' : null,
          f,
          f === 'projects' || f === 'projects-2026' ? null : f,
          PER_FOLDER,
          PER_FOLDER / 2,
          next,
          delta,
          account === a1 && f === 'projects',
        ],
      );
      await db.query(
        `INSERT INTO messages (account_id, graph_id, folder_graph_id, change_key, subject, from_name, from_address,
                               to_recipients, cc_recipients, body_preview, received_at, sent_at, is_read,
                               flag_status, importance, has_attachments, conversation_id, internet_message_id,
                               search)
         SELECT $1, 'AAMk-msg-' || $2 || '-' || n, 'AAMk-' || $2, 'ck' || n, 'Subject ' || n || ' in ' || $2,
                'Sender ' || n, 's' || n || '@contoso.test',
                jsonb_build_array(jsonb_build_object('name', 'To ' || n, 'address', 'to' || n || '@contoso.test')),
                '[]'::jsonb, 'preview ' || n,
                timestamptz '2026-11-01 00:00:00.123456+00' + n * interval '1 minute', NULL, n % 2 = 0,
                CASE WHEN n % 7 = 0 THEN 'flagged' ELSE 'notFlagged' END, 'normal', n % 5 = 0,
                'conv-' || (n / 3), '<' || n || '@contoso.test>',
                to_tsvector('simple', 'Subject ' || n || ' in ' || $2)
         FROM generate_series(1, $3::int) AS n`,
        [account, f, PER_FOLDER],
      );
      await db.query(
        `INSERT INTO message_bodies (account_id, graph_id, content_type, content)
         SELECT $1, graph_id, CASE WHEN right(graph_id, 1) IN ('1', '3') THEN 'text' ELSE 'html' END,
                '<p>body of ' || graph_id || '</p>'
         FROM messages WHERE account_id = $1 AND folder_graph_id = $2`,
        [account, `AAMk-${f}`],
      );
    }
    await db.query(
      `INSERT INTO mail_changes (account_id, seq, kind, message_graph_id, folder_graph_id, at)
       SELECT $1, n, CASE WHEN n % 4 = 0 THEN 'removed' ELSE 'upserted' END, 'AAMk-msg-inbox-' || n,
              'AAMk-inbox', now() - (10 - n) * interval '1 minute'
       FROM generate_series(1, 7) AS n`,
      [account],
    );
  }
  // the big body, and a folder being rebuilt after a lost deltaLink with what its first page listed
  await db.query(
    `UPDATE message_bodies SET content = $2 WHERE account_id = $1 AND graph_id = 'AAMk-msg-inbox-2'`,
    [a1, BIG_BODY],
  );
  await db.query(
    `INSERT INTO folder_rebuild_seen (account_id, folder_graph_id, graph_id)
     SELECT account_id, folder_graph_id, graph_id FROM messages
      WHERE account_id = $1 AND folder_graph_id = 'AAMk-projects' AND right(graph_id, 1) <> '9'`,
    [a1],
  );
  await db.query(
    `INSERT INTO graph_subscriptions (account_id, subscription_id, client_state_hash, resource, expires_at)
     VALUES ($1, 'sub-1', 'sha256-hash', '/users/ext/messages', now() + interval '2 days')`,
    [a1],
  );
  await db.query(
    `INSERT INTO subscription_removals (id, account_id, subscription_id, token_key_id, refresh_token_enc)
     VALUES ($1, $2, 'sub-old', 'k1', 'v1.sealed-refresh')`,
    [randomUUID(), randomUUID()],
  );
  const command = randomUUID();
  await db.query(
    `INSERT INTO mail_commands (id, user_id, account_id, action, request, request_hash, status)
     VALUES ($1, $2, $3, 'send', $4, 'h', 'queued')`,
    [command, alice, a1, JSON.stringify({ to: [{ address: 'x@contoso.test' }], subject: 'with a file' })],
  );
  await db.query(
    `INSERT INTO mail_command_attachments (command_id, position, name, content_type, size, content)
     VALUES ($1, 0, 'report.pdf', 'application/pdf', 4, '\\x25504446'::bytea)`,
    [command],
  );
  await db.query(
    `INSERT INTO command_uploads (id, user_id, name, content_type, size, content, expires_at)
     VALUES ($1, $2, 'photo.png', 'image/png', 3, '\\x89504e'::bytea, now() + interval '1 day')`,
    [randomUUID(), alice],
  );
  await db.query(
    `INSERT INTO outbox (topic, message_key, message_type, payload) VALUES ('mail.events', $1, 'mail.changed', $2)`,
    [a1, JSON.stringify({ v: 1, accountId: a1 })],
  );
}

describe('migration 1764320000000: provider-neutral columns, on a database filled by the schema before it', () => {
  const run = currentTestRun();
  const name = `${run.databaseName}_neutral`;
  const url = (() => {
    const u = new URL(run.databaseUrl);
    u.pathname = `/${name}`;
    return u.toString();
  })();
  const mine = migrations.indexOf(ProviderNeutralColumns1764320000000);
  const upTo = (n: number) =>
    new DataSource({
      type: 'postgres',
      url,
      migrations: migrations.slice(0, n),
      migrationsTableName: 'migrations',
      synchronize: false,
      extra: { max: 2 },
    });
  const admin = new Client({ connectionString: run.adminDatabaseUrl });
  const db = new Client({ connectionString: url });
  const withRename = upTo(mine + 1);
  const ids = { users: [randomUUID(), randomUUID()], accounts: [randomUUID(), randomUUID()] };
  let before: { rows: Rows; schema: SchemaShape };

  beforeAll(async () => {
    expect(mine).toBeGreaterThan(0);
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const old = upTo(mine);
    await old.initialize();
    try {
      await runMigrationsLocked(old);
    } finally {
      await old.destroy();
    }
    await db.connect();
    await fillOldSchema(db, ids);
    before = { rows: await dumpRows(db), schema: await schemaShape(db) };
    await withRename.initialize();
    expect(await runMigrationsLocked(withRename)).toEqual(['ProviderNeutralColumns1764320000000']);
  }, 120000);

  afterAll(async () => {
    await db.end().catch(() => undefined);
    if (withRename.isInitialized) await withRename.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it("the database it starts from is today's: Graph-named columns, filled in every table", () => {
    expect(before.schema.columns).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mail_folders \d+ delta_link text YES$/),
        expect.stringMatching(/^messages \d+ graph_id text NO$/),
      ]),
    );
    const empty = Object.entries(before.rows).filter(([, rows]) => rows.length === 0);
    expect(empty.map(([table]) => table)).toEqual([]);
    expect(before.rows.messages).toHaveLength(2 * FOLDERS.length * PER_FOLDER);
    expect(before.rows.message_bodies).toHaveLength(2 * FOLDERS.length * PER_FOLDER);
  });

  it('keeps every row of every table, value for value, under the new column names', async () => {
    const after = await dumpRows(db);
    expect(Object.keys(after)).toEqual(Object.keys(before.rows));
    const expected = renamed(before.rows);
    for (const table of Object.keys(expected))
      expect([table, after[table]]).toEqual([table, expected[table]]);
  });

  it('renames only: the same columns in the same places with the same types; no Graph name is left in the mirror', async () => {
    const shape = await schemaShape(db);
    const rename = (line: string) => {
      const [table, pos, column, ...rest] = line.split(' ');
      return [table, pos, RENAMED[table]?.[column] ?? column, ...rest].join(' ');
    };
    expect(shape.columns).toEqual(before.schema.columns.map(rename).sort());
    const mirror = [...shape.columns, ...shape.constraints, ...shape.indexes].filter(
      (s) => !s.includes('graph_subscriptions'),
    );
    expect(mirror.filter((s) => /graph|delta_link|next_link/.test(s))).toEqual([]);
    expect(shape.constraints).toEqual(
      expect.arrayContaining([
        'mail_folders mail_folders_pkey PRIMARY KEY (account_id, remote_id)',
        'messages messages_pkey PRIMARY KEY (account_id, remote_id)',
        'message_bodies message_bodies_pkey PRIMARY KEY (account_id, remote_id)',
        'message_bodies message_bodies_account_id_remote_id_fkey FOREIGN KEY (account_id, remote_id) ' +
          'REFERENCES messages(account_id, remote_id) ON DELETE CASCADE',
        'folder_rebuild_seen folder_rebuild_seen_pkey PRIMARY KEY (account_id, folder_remote_id, remote_id)',
        'folder_rebuild_seen folder_rebuild_seen_account_id_folder_remote_id_fkey FOREIGN KEY ' +
          '(account_id, folder_remote_id) REFERENCES mail_folders(account_id, remote_id) ON DELETE CASCADE',
      ]),
    );
    expect(shape.constraints).toHaveLength(before.schema.constraints.length);
    expect(shape.indexes).toContain(
      'CREATE INDEX messages_folder_received_idx ON public.messages USING btree ' +
        '(account_id, folder_remote_id, received_at DESC, remote_id DESC)',
    );
    expect(shape.indexes).toHaveLength(before.schema.indexes.length);
    expect(shape.comments).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mail_folders cursor where the folder's next incremental sync/),
      ]),
    );
  });

  it('down() gives back the old names, constraints and indexes, with the same rows; up() again is lossless', async () => {
    await withRename.undoLastMigration({ transaction: 'each' });
    expect(await schemaShape(db)).toEqual(before.schema);
    expect(await dumpRows(db)).toEqual(before.rows);
    expect(await runMigrationsLocked(withRename)).toEqual(['ProviderNeutralColumns1764320000000']);
    expect(await dumpRows(db)).toEqual(renamed(before.rows));
  });

  it('the code finds every folder cursor, message, body and change under the new names', async () => {
    // today's code reads today's schema: the migrations after this one first (they keep the rows; later ones add
    // tables the code uses, such as draft_origins and message_removals)
    const latest = upTo(migrations.length);
    await latest.initialize();
    try {
      await runMigrationsLocked(latest);
    } finally {
      await latest.destroy();
    }
    const [a1, a2] = ids.accounts;
    const folders = new MailFoldersRepository(withRename);
    const synced = await folders.listForSync(a1);
    // the Inbox first (a first sync mirrors what a user looks at first), then by id
    expect(synced.map((f) => [f.graphId, f.parentGraphId, f.deltaLink, f.nextLink, f.rebuilding])).toEqual(
      [...FOLDERS]
        .sort((a, b) => Number(a !== 'inbox') - Number(b !== 'inbox') || a.localeCompare(b))
        .map((f) => [
          `AAMk-${f}`,
          f === 'projects-2026' ? 'AAMk-projects' : null,
          `https://graph.microsoft.com/v1.0/me/mailFolders('${f}')/messages/delta?$deltatoken=${f}-${FOLDERS.indexOf(f)}`,
          f === 'archive'
            ? `https://graph.microsoft.com/v1.0/me/mailFolders('${f}')/messages/delta?$skiptoken=${f}-skip`
            : null,
          f === 'projects',
        ]),
    );
    const midSync = await folders.listForSync(a2);
    expect(midSync.every((f) => f.deltaLink === null && f.nextLink?.includes('$skiptoken='))).toBe(true);
    expect(midSync).toHaveLength(FOLDERS.length);

    const read = new MailReadRepository(withRename);
    const scope = { userId: ids.users[0], accountId: a1 };
    const big = await read.findMessage(scope, 'AAMk-msg-inbox-2');
    expect(big).toMatchObject({
      ok: true,
      value: {
        id: 'AAMk-msg-inbox-2',
        folderId: 'AAMk-inbox',
        body: { contentType: 'html', content: BIG_BODY },
      },
    });
    const small = await read.findMessage(scope, 'AAMk-msg-archive-13');
    expect(small).toMatchObject({
      ok: true,
      value: { body: { contentType: 'text', content: '<p>body of AAMk-msg-archive-13</p>' } },
    });
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const after = cursor === null ? undefined : (decodeMessageCursor(cursor) ?? undefined);
      const page = await read.findMessagePage(scope, {
        filter: { folderId: 'AAMk-sentitems' },
        limit: 50,
        after,
      });
      if (!page.ok) throw new Error(page.error);
      listed.push(...page.value.items.map((m) => m.id));
      cursor = page.value.nextCursor;
    } while (cursor !== null);
    expect(listed).toEqual(
      Array.from({ length: PER_FOLDER }, (_, i) => `AAMk-msg-sentitems-${PER_FOLDER - i}`),
    );
    const tree = await read.listFolders(scope);
    expect(tree.ok && tree.value.map((f) => [f.id, f.totalCount]).sort()).toEqual(
      [...FOLDERS].sort().map((f) => [`AAMk-${f}`, PER_FOLDER]),
    );

    const changes = await new MailChangesRepository(withRename).since(a1, 0, 100);
    expect(changes?.items.map((c) => [c.seq, c.kind, c.messageId, c.folderId])).toEqual(
      Array.from({ length: 7 }, (_, i) => [
        i + 1,
        (i + 1) % 4 === 0 ? 'removed' : 'upserted',
        `AAMk-msg-inbox-${i + 1}`,
        'AAMk-inbox',
      ]),
    );
  });

  it('after the rename the write path works on the kept rows: a rebuild finishes and removals cascade to bodies', async () => {
    const [a1] = ids.accounts;
    const folders = new MailFoldersRepository(withRename);
    const swept = await withRename.transaction((m) => folders.finishRebuild(m, a1, 'AAMk-projects'));
    expect(swept.sort()).toEqual(
      Array.from({ length: PER_FOLDER }, (_, i) => `AAMk-msg-projects-${i + 1}`)
        .filter((id) => id.endsWith('9'))
        .sort(),
    );
    const removed = await withRename.transaction((m) =>
      new MessagesRepository(withRename).applyPage(
        m,
        a1,
        'AAMk-inbox',
        { messages: [], removedIds: ['AAMk-msg-inbox-2', 'AAMk-msg-inbox-3'] },
        new Map(),
      ),
    );
    expect(removed.removedIds.sort()).toEqual(['AAMk-msg-inbox-2', 'AAMk-msg-inbox-3']);
    const bodies = await db.query(
      `SELECT remote_id FROM message_bodies WHERE account_id = $1 AND remote_id = ANY($2::text[])`,
      [a1, ['AAMk-msg-inbox-2', 'AAMk-msg-inbox-3', 'AAMk-msg-inbox-4']],
    );
    expect(bodies.rows).toEqual([{ remote_id: 'AAMk-msg-inbox-4' }]);
    const rebuilt = await db.query(
      `SELECT rebuilding, (SELECT count(*)::int FROM folder_rebuild_seen s WHERE s.account_id = f.account_id
                                                            AND s.folder_remote_id = f.remote_id) AS seen
         FROM mail_folders f WHERE account_id = $1 AND remote_id = 'AAMk-projects'`,
      [a1],
    );
    expect(rebuilt.rows).toEqual([{ rebuilding: false, seen: 0 }]);
  });
});
