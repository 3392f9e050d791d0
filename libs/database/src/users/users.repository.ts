import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';

/** A user as the rest of the product sees them: never with the password hash. */
export interface UserRecord {
  id: string;
  email: string;
  createdAt: Date;
}

/** What sign-in needs; only the auth use cases ask for it. */
export interface UserCredentials extends UserRecord {
  passwordHash: string;
}

export type CreateUserResult = { ok: true; user: UserRecord } | { ok: false; reason: 'email_taken' };

interface UserRow {
  id: string;
  email: string;
  created_at: Date;
}

const UNIQUE_VIOLATION = '23505';

/** Local users. `email` is citext, so every lookup and the uniqueness rule ignore case. */
@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the user, or reports that the address is taken (the unique index decides, so two racing sign-ups cannot both win). */
  async createUser(input: { id: string; email: string; passwordHash: string }): Promise<CreateUserResult> {
    try {
      const rows: UserRow[] = await this.dataSource.query(
        `INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3) RETURNING id, email, created_at`,
        [input.id, input.email, input.passwordHash],
      );
      return { ok: true, user: toRecord(rows[0]) };
    } catch (err) {
      if (
        err instanceof QueryFailedError &&
        (err.driverError as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        return { ok: false, reason: 'email_taken' };
      }
      throw err;
    }
  }

  async findById(id: string): Promise<UserRecord | null> {
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT id, email, created_at FROM users WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT id, email, created_at FROM users WHERE email = $1`,
      [email],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findCredentialsByEmail(email: string): Promise<UserCredentials | null> {
    const rows: Array<UserRow & { password_hash: string }> = await this.dataSource.query(
      `SELECT id, email, created_at, password_hash FROM users WHERE email = $1`,
      [email],
    );
    const row = rows[0];
    return row ? { ...toRecord(row), passwordHash: row.password_hash } : null;
  }

  /** Replaces the hash, e.g. when sign-in finds one made with older argon2 parameters. */
  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.dataSource.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [id, passwordHash]);
  }
}

function toRecord(row: UserRow | undefined): UserRecord {
  if (!row) throw new Error('expected a users row');
  return { id: row.id, email: row.email, createdAt: row.created_at };
}
