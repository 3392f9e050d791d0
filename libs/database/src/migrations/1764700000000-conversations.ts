import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations (issue 23, docs/conversations.md): `messages.conversation_id` becomes the mirror's thread id of
 * every message, assigned by the page upsert whatever the provider (libs/database/src/mail/threading.ts).
 *
 * - `thread_subject`: the normalised subject of a message threaded by its headers (IMAP); NULL for a provider that
 *   threads itself (Graph). It marks the rows the two partial indexes below hold, so Graph's bulk sync pays for
 *   neither.
 * - `messages_conversation_idx (account_id, conversation_id, received_at DESC, remote_id DESC)`: a conversation's
 *   messages in order (the reader), the newest of a conversation in a folder (the conversation list's probe), and
 *   the merge of a reply that arrived before its parent.
 * - `messages_thread_message_id_idx`: header-threaded rows by Message-ID (a reply finds its parent's thread).
 * - `messages_thread_subject_idx`: header-threaded rows by normalised subject, newest first (the fallback for mail
 *   without references).
 *
 * Backfill: IMAP rows get their `thread_subject` (the same normalisation as threading.ts, in SQL) and their
 * Message-ID in `<...>` form; their `conversation_id` was already the header guess (the IMAP adapter set the root
 * of References, else In-Reply-To, else the Message-ID), and one merge pass moves rows whose guessed root is a
 * message of another thread into it. A message without any id gets its own id as its thread. Plain CREATE INDEX in
 * the migration's transaction, as 1764500000000-reads-at-size explains.
 */
export class Conversations1764700000000 implements MigrationInterface {
  name = 'Conversations1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN IF NOT EXISTS thread_subject text`);
    await q.query(`
      UPDATE messages m SET
        thread_subject = btrim(regexp_replace(lower(regexp_replace(m.subject,
          '^(\\s*(\\[[^\\]]{1,40}\\]\\s*|(re|fwd?|aw|wg|sv|vs|antw|doorst|tr|rif|r)\\s*(\\[\\d+\\])?\\s*:\\s*))*', '', 'i')),
          '\\s+', ' ', 'g')),
        internet_message_id = CASE
          WHEN m.internet_message_id IS NULL OR m.internet_message_id ~ '^<.*>$' THEN m.internet_message_id
          ELSE '<' || regexp_replace(m.internet_message_id, '\\s+', '', 'g') || '>' END
      FROM mail_accounts a
      WHERE a.id = m.account_id AND a.provider = 'imap'`);
    await q.query(`UPDATE messages SET conversation_id = remote_id WHERE conversation_id IS NULL`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS messages_conversation_idx
         ON messages (account_id, conversation_id, received_at DESC, remote_id DESC)`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS messages_thread_message_id_idx
         ON messages (account_id, internet_message_id) WHERE thread_subject IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS messages_thread_subject_idx
         ON messages (account_id, thread_subject, received_at DESC) WHERE thread_subject IS NOT NULL`,
    );
    // one merge pass: a row whose thread is another header-threaded row's Message-ID joins that row's thread
    await q.query(`
      UPDATE messages m SET conversation_id = p.conversation_id
      FROM messages p
      WHERE m.thread_subject IS NOT NULL AND p.thread_subject IS NOT NULL
        AND p.account_id = m.account_id AND p.internet_message_id = m.conversation_id
        AND p.conversation_id <> m.conversation_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_thread_subject_idx`);
    await q.query(`DROP INDEX IF EXISTS messages_thread_message_id_idx`);
    await q.query(`DROP INDEX IF EXISTS messages_conversation_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS thread_subject`);
  }
}
