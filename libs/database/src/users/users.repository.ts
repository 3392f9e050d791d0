import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';

/** A user as the rest of the product sees them: never with the password hash. */
export interface UserRecord {
  id: string;
  email: string;
  createdAt: Date;
}

/** What sign-in needs; only the auth use cases ask for it. */
export interface UserCredentials extends UserRecord {
  /** null for a user who only ever signed in by emailed code */
  passwordHash: string | null;
}

export type CreateUserResult = { ok: true; user: UserRecord } | { ok: false; reason: 'email_taken' };

/** `user` by default; `operator` only through an explicit grant (`npm run ops:grant`). */
export type UserRole = 'user' | 'operator';

/** What decides a user's rights beyond their own data: read from the database on every check, never from a token. */
export interface UserAuthority {
  id: string;
  email: string;
  role: UserRole;
  /** when the user proved they own `email` (a code sent to it); null until then */
  emailVerifiedAt: Date | null;
}

/** What a role change did: `changed` is false when the user already had that role. */
export type SetRoleResult =
  | {
      ok: true;
      user: { id: string; email: string };
      previousRole: UserRole;
      role: UserRole;
      changed: boolean;
    }
  | { ok: false; reason: 'unknown_email' };

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
  async createUser(
    input: { id: string; email: string; passwordHash: string },
    manager?: EntityManager,
  ): Promise<CreateUserResult> {
    try {
      const rows: UserRow[] = await (manager ?? this.dataSource).query(
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

  /**
   * The user with this address, created without a password if there is none, and in either case marked verified
   * (now, unless it already was): whoever calls this has just proved they receive mail at the address.
   */
  async findOrCreateVerified(input: { id: string; email: string }): Promise<UserRecord> {
    const rows: UserRow[] = await this.dataSource.query(
      `INSERT INTO users (id, email, password_hash, email_verified_at) VALUES ($1, $2, NULL, now())
       ON CONFLICT (email) DO UPDATE SET email_verified_at = COALESCE(users.email_verified_at, now())
       RETURNING id, email, created_at`,
      [input.id, input.email],
    );
    return toRecord(rows[0]);
  }

  /**
   * Marks the user's address verified, if it is still `email`; the time it is verified since (an earlier
   * verification is kept), or null when no user has this id and address.
   */
  async markEmailVerified(id: string, email: string): Promise<Date | null> {
    const [rows]: [Array<{ email_verified_at: Date }>, number] = await this.dataSource.query(
      `UPDATE users SET email_verified_at = COALESCE(email_verified_at, now())
        WHERE id = $1 AND email = $2 RETURNING email_verified_at`,
      [id, email],
    );
    return rows[0]?.email_verified_at ?? null;
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
    const rows: Array<UserRow & { password_hash: string | null }> = await this.dataSource.query(
      `SELECT id, email, created_at, password_hash FROM users WHERE email = $1`,
      [email],
    );
    const row = rows[0];
    return row ? { ...toRecord(row), passwordHash: row.password_hash } : null;
  }

  /** The user's role and address verification, or null for an unknown (e.g. deleted) user. */
  async findAuthority(id: string): Promise<UserAuthority | null> {
    const rows: Array<{ id: string; email: string; role: UserRole; email_verified_at: Date | null }> =
      await this.dataSource.query(`SELECT id, email, role, email_verified_at FROM users WHERE id = $1`, [id]);
    const row = rows[0];
    return row
      ? { id: row.id, email: row.email, role: row.role, emailVerifiedAt: row.email_verified_at }
      : null;
  }

  /**
   * Gives the user with this address (any case) the role, in one statement that also reports the role they had;
   * `unknown_email` when nobody has that address.
   */
  async setRoleByEmail(email: string, role: UserRole): Promise<SetRoleResult> {
    // TypeORM answers an UPDATE with [rows, affected count]
    const [rows]: [Array<{ id: string; email: string; previous_role: UserRole }>, number] =
      await this.dataSource.query(
        `UPDATE users u SET role = $2
           FROM (SELECT id, role FROM users WHERE email = $1 FOR UPDATE) old
          WHERE u.id = old.id
          RETURNING u.id, u.email, old.role AS previous_role`,
        [email, role],
      );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'unknown_email' };
    return {
      ok: true,
      user: { id: row.id, email: row.email },
      previousRole: row.previous_role,
      role,
      changed: row.previous_role !== role,
    };
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
