/**
 * `npm run ops:grant -- <email>`: makes the user with that address an operator (the Ops API and the dashboard's Ops
 * page). `npm run ops:grant -- --revoke <email>` takes it back. The change is in the users table, which the
 * producer reads on every Ops request: it takes effect at once, without a new sign-in.
 *
 * Connects to DATABASE_URL, or to the database of the last `npm run stack:up` (.stack/endpoints.env; a password
 * is taken from PGPASSWORD), and applies pending migrations first (the same locked run the apps do at boot).
 * Exit codes: 0 done (or nothing to change), 1 no user has that address, 2 usage, 3 the database failed.
 */
import { createDataSource, runMigrationsLocked, UsersRepository, type UserRole } from '@email-core/database';
import { readEndpointsFile } from '@email-core/stack/state';

const USAGE = [
  'usage: npm run ops:grant -- <email>            make that user an operator',
  '       npm run ops:grant -- --revoke <email>   take operator rights back',
].join('\n');

export const EXIT = { ok: 0, unknownEmail: 1, usage: 2, database: 3 } as const;

export interface GrantArgs {
  email: string;
  role: UserRole;
}

/** `[--revoke] <email>` (in either order), or a usage problem. */
export function parseArgs(argv: string[]): GrantArgs | { problem: string } {
  const revoke = argv.includes('--revoke');
  const rest = argv.filter((a) => a !== '--revoke');
  const unknownFlag = rest.find((a) => a.startsWith('-'));
  if (unknownFlag) return { problem: `unknown option ${unknownFlag}` };
  if (rest.length !== 1) return { problem: 'give exactly one email address' };
  const email = rest[0].trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return { problem: `not an email address: ${email}` };
  return { email, role: revoke ? 'user' : 'operator' };
}

function databaseUrl(): string | undefined {
  return process.env.DATABASE_URL ?? readEndpointsFile()?.databaseUrl;
}

/** The database's user name and address, never its password. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if ('problem' in args) {
    process.stderr.write(`ops:grant: ${args.problem}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const url = databaseUrl();
  if (!url) {
    process.stderr.write(
      'ops:grant: no DATABASE_URL and no .stack/endpoints.env: run `npm run stack:up` first\n',
    );
    return EXIT.database;
  }
  const dataSource = createDataSource({ url, poolSize: 2, applicationName: 'email-core-ops-grant' });
  try {
    await dataSource.initialize();
    await runMigrationsLocked(dataSource);
    const result = await new UsersRepository(dataSource).setRoleByEmail(args.email, args.role);
    if (!result.ok) {
      process.stderr.write(
        `ops:grant: no user has the address ${args.email} in ${describe(url)}; they sign up first, then run this again\n`,
      );
      return EXIT.unknownEmail;
    }
    const who = `${result.user.email} (user ${result.user.id})`;
    const what =
      args.role === 'operator'
        ? result.changed
          ? `granted: ${who} is now an operator`
          : `unchanged: ${who} was already an operator`
        : result.changed
          ? `revoked: ${who} is no longer an operator`
          : `unchanged: ${who} was not an operator`;
    const when = result.changed ? '; effective on their next request, no new sign-in needed' : '';
    process.stdout.write(`ops:grant: ${what} (in ${describe(url)}${when})\n`);
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`ops:grant: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.database;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`ops:grant: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(EXIT.database);
    },
  );
}
