import { randomBytes, randomUUID } from 'node:crypto';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import { RefreshSessionsRepository } from './refresh-sessions.repository';
import { UsersRepository } from './users.repository';

describe('users and refresh sessions (real Postgres, migrated schema)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 8 });
  const users = new UsersRepository(dataSource);
  const sessions = new RefreshSessionsRepository(dataSource);

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  const address = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const hash = () => randomBytes(32).toString('hex');
  const inDays = (d: number) => new Date(Date.now() + d * 86400000);

  async function newUser() {
    const created = await users.createUser({ id: randomUUID(), email: address('u'), passwordHash: 'h' });
    if (!created.ok) throw new Error('could not create a user');
    return created.user;
  }

  /** a family whose first token was rotated into a second: [spent, current] */
  async function rotatedFamily(userId: string) {
    const familyId = randomUUID();
    const spent = hash();
    await sessions.createSession({
      id: randomUUID(),
      userId,
      familyId,
      tokenHash: spent,
      expiresAt: inDays(30),
    });
    const current = hash();
    expect(
      await sessions.rotate(spent, { id: randomUUID(), tokenHash: current, expiresAt: inDays(30) }),
    ).toEqual({
      status: 'rotated',
      userId,
      familyId,
    });
    return { familyId, spent, current };
  }

  const liveInFamily = async (familyId: string) => {
    const rows = await dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM refresh_sessions WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
    return Number(rows[0]?.n);
  };

  describe('UsersRepository', () => {
    it('creates a user and finds them by id and by email in any case, the hash only through findCredentialsByEmail', async () => {
      const email = address('Ada');
      const created = await users.createUser({ id: randomUUID(), email, passwordHash: '$argon2id$x' });
      expect(created.ok).toBe(true);
      if (!created.ok) return;
      expect(created.user).toEqual({
        id: expect.any(String) as string,
        email,
        createdAt: expect.any(Date) as Date,
      });
      expect(await users.findById(created.user.id)).toEqual(created.user);
      expect(await users.findByEmail(email.toUpperCase())).toEqual(created.user);
      expect(await users.findCredentialsByEmail(email.toUpperCase())).toEqual({
        ...created.user,
        passwordHash: '$argon2id$x',
      });
      expect(await users.findById(randomUUID())).toBeNull();
      expect(await users.findCredentialsByEmail(address('nobody'))).toBeNull();
    });

    it('reports a taken address (citext: case-insensitive), also when two sign-ups race', async () => {
      const email = address('race');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          users.createUser({
            id: randomUUID(),
            email: i % 2 ? email.toUpperCase() : email,
            passwordHash: 'h',
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual(Array(4).fill({ ok: false, reason: 'email_taken' }));
    });

    it('grants and revokes the operator role by address (any case), and reports an unknown address', async () => {
      const user = await newUser();
      expect(await users.findAuthority(user.id)).toEqual({
        id: user.id,
        email: user.email,
        role: 'user',
        emailVerifiedAt: null,
      });
      const granted = await users.setRoleByEmail(user.email.toUpperCase(), 'operator');
      expect(granted).toEqual({
        ok: true,
        user: { id: user.id, email: user.email },
        previousRole: 'user',
        role: 'operator',
        changed: true,
      });
      expect((await users.findAuthority(user.id))?.role).toBe('operator');
      expect(await users.setRoleByEmail(user.email, 'operator')).toMatchObject({ ok: true, changed: false });
      expect(await users.setRoleByEmail(user.email, 'user')).toMatchObject({
        ok: true,
        previousRole: 'operator',
        changed: true,
      });
      expect((await users.findAuthority(user.id))?.role).toBe('user');
      expect(await users.setRoleByEmail(address('nobody'), 'operator')).toEqual({
        ok: false,
        reason: 'unknown_email',
      });
      expect(await users.findAuthority(randomUUID())).toBeNull();
    });

    it('replaces a password hash', async () => {
      const user = await newUser();
      await users.updatePasswordHash(user.id, 'h2');
      expect((await users.findCredentialsByEmail(user.email))?.passwordHash).toBe('h2');
    });

    it('a sign-in by code creates a verified user without a password, or verifies the one with the address', async () => {
      const email = address('Code');
      const created = await users.findOrCreateVerified({ id: randomUUID(), email });
      expect(created.email).toBe(email);
      expect((await users.findCredentialsByEmail(email))?.passwordHash).toBeNull();
      const verifiedAt = (await users.findAuthority(created.id))?.emailVerifiedAt;
      expect(verifiedAt).toBeInstanceOf(Date);
      // the same address (any case) is the same user, verified since the first time
      const again = await users.findOrCreateVerified({ id: randomUUID(), email: email.toUpperCase() });
      expect(again.id).toBe(created.id);
      expect((await users.findAuthority(created.id))?.emailVerifiedAt).toEqual(verifiedAt);

      const withPassword = await newUser();
      expect((await users.findAuthority(withPassword.id))?.emailVerifiedAt).toBeNull();
      const found = await users.findOrCreateVerified({ id: randomUUID(), email: withPassword.email });
      expect(found.id).toBe(withPassword.id);
      expect((await users.findAuthority(withPassword.id))?.emailVerifiedAt).toBeInstanceOf(Date);
      expect((await users.findCredentialsByEmail(withPassword.email))?.passwordHash).toBe('h');
    });

    it('marks an address verified only for its user and address, keeping the first time', async () => {
      const user = await newUser();
      expect(await users.markEmailVerified(user.id, address('other'))).toBeNull();
      expect(await users.markEmailVerified(randomUUID(), user.email)).toBeNull();
      const first = await users.markEmailVerified(user.id, user.email);
      expect(first).toBeInstanceOf(Date);
      expect(await users.markEmailVerified(user.id, user.email)).toEqual(first);
      expect((await users.findAuthority(user.id))?.emailVerifiedAt).toEqual(first);
    });
  });

  describe('RefreshSessionsRepository', () => {
    it('rotates a current token once; a second presentation is reuse and revokes the whole family', async () => {
      const user = await newUser();
      const { familyId, spent, current } = await rotatedFamily(user.id);
      expect(await liveInFamily(familyId)).toBe(2); // the spent one is rotated, not revoked

      expect(
        await sessions.rotate(spent, { id: randomUUID(), tokenHash: hash(), expiresAt: inDays(30) }),
      ).toEqual({
        status: 'reused',
        userId: user.id,
        familyId,
      });
      expect(await liveInFamily(familyId)).toBe(0);
      expect(
        await sessions.rotate(current, { id: randomUUID(), tokenHash: hash(), expiresAt: inDays(30) }),
      ).toEqual({
        status: 'revoked',
      });
    });

    it('does not rotate unknown or expired tokens, and changes nothing for them', async () => {
      const user = await newUser();
      expect(
        await sessions.rotate(hash(), { id: randomUUID(), tokenHash: hash(), expiresAt: inDays(1) }),
      ).toEqual({
        status: 'unknown',
      });
      const old = hash();
      const familyId = randomUUID();
      await sessions.createSession({
        id: randomUUID(),
        userId: user.id,
        familyId,
        tokenHash: old,
        expiresAt: inDays(-1),
      });
      const nextHash = hash();
      expect(
        await sessions.rotate(old, { id: randomUUID(), tokenHash: nextHash, expiresAt: inDays(1) }),
      ).toEqual({
        status: 'expired',
      });
      const rows: unknown[] = await dataSource.query(`SELECT 1 FROM refresh_sessions WHERE token_hash = $1`, [
        nextHash,
      ]);
      expect(rows).toHaveLength(0);
    });

    it('sign-out revokes the family of the presented token', async () => {
      const user = await newUser();
      const { familyId, current } = await rotatedFamily(user.id);
      expect(await sessions.revokeFamilyOf(current)).toBe(true);
      expect(await liveInFamily(familyId)).toBe(0);
      expect(await sessions.revokeFamilyOf(hash())).toBe(false);
    });

    it('a reuse racing a rotation of the same family never leaves a live successor behind', async () => {
      const user = await newUser();
      for (let i = 0; i < 15; i++) {
        const { familyId, spent, current } = await rotatedFamily(user.id);
        const [legit, thief] = await Promise.all([
          sessions.rotate(current, { id: randomUUID(), tokenHash: hash(), expiresAt: inDays(30) }),
          sessions.rotate(spent, { id: randomUUID(), tokenHash: hash(), expiresAt: inDays(30) }),
        ]);
        expect(thief.status).toBe('reused');
        expect(['rotated', 'revoked']).toContain(legit.status);
        expect(await liveInFamily(familyId)).toBe(0);
      }
    });

    it('revokes every session of a user, and deletes long-expired rows', async () => {
      const user = await newUser();
      const a = await rotatedFamily(user.id);
      const b = await rotatedFamily(user.id);
      await sessions.revokeAllForUser(user.id);
      expect(await liveInFamily(a.familyId)).toBe(0);
      expect(await liveInFamily(b.familyId)).toBe(0);

      const expired = hash();
      await sessions.createSession({
        id: randomUUID(),
        userId: user.id,
        familyId: randomUUID(),
        tokenHash: expired,
        expiresAt: inDays(-10),
      });
      expect(await sessions.deleteExpired(86400000)).toBeGreaterThanOrEqual(1);
      const rows: unknown[] = await dataSource.query(`SELECT 1 FROM refresh_sessions WHERE token_hash = $1`, [
        expired,
      ]);
      expect(rows).toHaveLength(0);
    });
  });
});
