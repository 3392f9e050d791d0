import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface NewRefreshSession {
  id: string;
  userId: string;
  familyId: string;
  /** sha256 of the token; the token itself is never stored */
  tokenHash: string;
  expiresAt: Date;
}

/**
 * What presenting a refresh token led to:
 * - `rotated`: it was current; it is now spent and `next` holds its successor in the same family;
 * - `reused`: it had already been rotated, so someone replayed it; the whole family is now revoked;
 * - `revoked`, `expired`, `unknown`: no session for it, and nothing changed.
 */
export type RotateResult =
  | { status: 'rotated'; userId: string; familyId: string }
  | { status: 'reused'; userId: string; familyId: string }
  | { status: 'revoked' }
  | { status: 'expired' }
  | { status: 'unknown' };

interface SessionRow {
  id: string;
  user_id: string;
  family_id: string;
  rotated_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
}

/**
 * Refresh sessions: one row per issued refresh token, chained in families (one family per sign-in).
 * Everything that changes a family takes a transaction-scoped advisory lock on it first, so a rotation and a
 * reuse-revocation of the same family never interleave (otherwise a revocation could miss the successor a
 * concurrent rotation is inserting).
 */
@Injectable()
export class RefreshSessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Starts a family (sign-up, sign-in). */
  async createSession(session: NewRefreshSession): Promise<void> {
    await insertSession(this.dataSource.manager, session);
  }

  /**
   * Spends the token whose hash is `tokenHash` and issues `next` in its family, in one transaction; or, if that
   * token was already spent, revokes the family (committed, so the revocation stands although the caller fails).
   */
  async rotate(
    tokenHash: string,
    next: { id: string; tokenHash: string; expiresAt: Date },
  ): Promise<RotateResult> {
    return this.dataSource.transaction(async (m) => {
      const session = await lockedSessionByHash(m, tokenHash);
      if (!session) return { status: 'unknown' };
      if (session.rotated_at) {
        await revokeFamilyRows(m, session.family_id);
        return { status: 'reused', userId: session.user_id, familyId: session.family_id };
      }
      if (session.revoked_at) return { status: 'revoked' };
      if (session.expired) return { status: 'expired' };
      await m.query(`UPDATE refresh_sessions SET rotated_at = now() WHERE id = $1`, [session.id]);
      await insertSession(m, { ...next, userId: session.user_id, familyId: session.family_id });
      return { status: 'rotated', userId: session.user_id, familyId: session.family_id };
    });
  }

  /** Revokes the family of the token whose hash is `tokenHash` (sign-out); false when no session has that hash. */
  async revokeFamilyOf(tokenHash: string): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const session = await lockedSessionByHash(m, tokenHash);
      if (!session) return false;
      await revokeFamilyRows(m, session.family_id);
      return true;
    });
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await lockFamily(m, familyId);
      await revokeFamilyRows(m, familyId);
    });
  }

  /** Every session of the user, e.g. after a password change. */
  async revokeAllForUser(userId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE refresh_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
  }

  /** Housekeeping: drops sessions that expired more than `olderThanMs` ago; returns how many. */
  async deleteExpired(olderThanMs: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM refresh_sessions WHERE expires_at < now() - ($1::bigint * interval '1 millisecond')`,
      [olderThanMs],
    );
    return result[1];
  }
}

async function insertSession(m: EntityManager, s: NewRefreshSession): Promise<void> {
  await m.query(
    `INSERT INTO refresh_sessions (id, user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [s.id, s.userId, s.familyId, s.tokenHash, s.expiresAt],
  );
}

function lockFamily(m: EntityManager, familyId: string): Promise<unknown> {
  return m.query(`SELECT pg_advisory_xact_lock(hashtextextended('refresh_sessions.family:' || $1, 0))`, [
    familyId,
  ]);
}

/** The session row, read after its family's lock is held, so what it says cannot change until we commit. */
async function lockedSessionByHash(m: EntityManager, tokenHash: string): Promise<SessionRow | undefined> {
  const found: Array<{ family_id: string }> = await m.query(
    `SELECT family_id FROM refresh_sessions WHERE token_hash = $1`,
    [tokenHash],
  );
  if (!found[0]) return undefined;
  await lockFamily(m, found[0].family_id);
  const rows: SessionRow[] = await m.query(
    `SELECT id, user_id, family_id, rotated_at, revoked_at, expires_at <= now() AS expired
       FROM refresh_sessions WHERE token_hash = $1`,
    [tokenHash],
  );
  return rows[0];
}

async function revokeFamilyRows(m: EntityManager, familyId: string): Promise<void> {
  await m.query(
    `UPDATE refresh_sessions SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
    [familyId],
  );
}
