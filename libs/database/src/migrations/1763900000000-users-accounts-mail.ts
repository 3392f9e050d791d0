import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users and their sessions, linked Outlook accounts (tokens encrypted), and the mirror: folders with their
 * delta state, messages (list columns plus a full-text vector), and bodies in a table of their own so list
 * queries never read them.
 */
export class UsersAccountsMail1763900000000 implements MigrationInterface {
  name = 'UsersAccountsMail1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS citext`);
    await q.query(`
      CREATE TABLE users (
        id             uuid PRIMARY KEY,
        email          citext      NOT NULL UNIQUE,
        password_hash  text        NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE refresh_sessions (
        id           uuid PRIMARY KEY,
        user_id      uuid        NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family_id    uuid        NOT NULL,
        token_hash   text        NOT NULL UNIQUE,
        expires_at   timestamptz NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        rotated_at   timestamptz,
        revoked_at   timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_sessions_family_idx ON refresh_sessions (family_id)`);
    await q.query(`
      CREATE TABLE mail_accounts (
        id                       uuid PRIMARY KEY,
        user_id                  uuid        NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider                 text        NOT NULL DEFAULT 'outlook',
        external_user_id         text        NOT NULL,
        email                    text        NOT NULL,
        display_name             text        NOT NULL DEFAULT '',
        status                   text        NOT NULL DEFAULT 'syncing'
                                   CHECK (status IN ('syncing', 'synced', 'reauth_required', 'error')),
        status_reason            text,
        token_key_id             text,
        access_token_enc         text,
        access_token_expires_at  timestamptz,
        refresh_token_enc        text,
        token_version            integer     NOT NULL DEFAULT 0,
        sync_started_at          timestamptz,
        sync_completed_at        timestamptz,
        created_at               timestamptz NOT NULL DEFAULT now(),
        updated_at               timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, provider, external_user_id)
      )`);
    await q.query(`CREATE INDEX mail_accounts_user_idx ON mail_accounts (user_id)`);
    await q.query(`
      CREATE TABLE mail_folders (
        account_id        uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        graph_id          text        NOT NULL,
        parent_graph_id   text,
        display_name      text        NOT NULL,
        well_known_name   text,
        total_count       integer     NOT NULL DEFAULT 0,
        unread_count      integer     NOT NULL DEFAULT 0,
        next_link         text,
        delta_link        text,
        synced_at         timestamptz,
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, graph_id)
      )`);
    await q.query(`
      CREATE TABLE messages (
        account_id           uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        graph_id             text        NOT NULL,
        folder_graph_id      text        NOT NULL,
        change_key           text        NOT NULL,
        subject              text        NOT NULL DEFAULT '',
        from_name            text        NOT NULL DEFAULT '',
        from_address         text        NOT NULL DEFAULT '',
        to_recipients        jsonb       NOT NULL DEFAULT '[]',
        cc_recipients        jsonb       NOT NULL DEFAULT '[]',
        body_preview         text        NOT NULL DEFAULT '',
        received_at          timestamptz NOT NULL,
        sent_at              timestamptz,
        is_read              boolean     NOT NULL DEFAULT false,
        flag_status          text        NOT NULL DEFAULT 'notFlagged',
        importance           text        NOT NULL DEFAULT 'normal',
        has_attachments      boolean     NOT NULL DEFAULT false,
        conversation_id      text,
        internet_message_id  text,
        search               tsvector    NOT NULL DEFAULT ''::tsvector,
        updated_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, graph_id)
      )`);
    // keyset pagination per folder, newest first
    await q.query(
      `CREATE INDEX messages_folder_received_idx ON messages (account_id, folder_graph_id, received_at DESC, graph_id DESC)`,
    );
    await q.query(`CREATE INDEX messages_search_idx ON messages USING GIN (search)`);
    await q.query(`
      CREATE TABLE message_bodies (
        account_id    uuid NOT NULL,
        graph_id      text NOT NULL,
        content_type  text NOT NULL,
        content       text NOT NULL,
        PRIMARY KEY (account_id, graph_id),
        FOREIGN KEY (account_id, graph_id) REFERENCES messages(account_id, graph_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_bodies`);
    await q.query(`DROP TABLE messages`);
    await q.query(`DROP TABLE mail_folders`);
    await q.query(`DROP TABLE mail_accounts`);
    await q.query(`DROP TABLE refresh_sessions`);
    await q.query(`DROP TABLE users`);
  }
}
