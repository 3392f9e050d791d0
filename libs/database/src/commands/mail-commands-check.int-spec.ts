import { MAIL_ACTIONS, MAIL_COMMAND_STATUSES } from '@email-core/contracts';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';

/**
 * The database's CHECKs on `mail_commands` hold the contracts' lists (a migration cannot import them: it must
 * keep meaning what it meant when it ran). A new action in MAIL_ACTIONS fails here until a migration widens the
 * CHECK; one the database allows but the contracts dropped fails too.
 */
describe('mail_commands CHECKs (real Postgres, migrated schema) = libs/contracts', () => {
  const dataSource = createDataSource({ url: currentTestRun().databaseUrl, poolSize: 1 });

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  /** the literals the CHECK on `column` allows, as Postgres itself renders the constraint */
  const allowed = async (column: string): Promise<string[]> => {
    const rows: Array<{ def: string }> = await dataSource.query(
      `SELECT pg_get_constraintdef(c.oid) AS def
         FROM pg_constraint c
        WHERE c.conrelid = 'mail_commands'::regclass AND c.contype = 'c'`,
    );
    const mine = rows.filter((r) => new RegExp(`\\(\\(?${column}\\b`).test(r.def));
    expect(mine).toHaveLength(1);
    return [...mine[0].def.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1].replace(/''/g, "'"));
  };

  it('action: exactly MAIL_ACTIONS', async () => {
    expect((await allowed('action')).sort()).toEqual([...MAIL_ACTIONS].sort());
  });

  it('status: exactly MAIL_COMMAND_STATUSES', async () => {
    expect((await allowed('status')).sort()).toEqual([...MAIL_COMMAND_STATUSES].sort());
  });
});
