import { ensureStack, stackStatus, stopStack, StackUnavailableError } from '@email-core/stack';
import { errorMessage } from '@email-core/stack/process';

const USAGE = 'usage: tsx scripts/stack/cli.ts up|down|status';

async function main(command: string | undefined): Promise<number> {
  const started = Date.now();
  const took = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  switch (command ?? '') {
    case 'up':
      await ensureStack({ log: (m) => console.log(m) });
      console.log(`stack up in ${took()}`);
      return 0;
    case 'down':
      await stopStack({ log: (m) => console.log(m) });
      console.log(`stack down in ${took()}`);
      return 0;
    case 'status': {
      const status = await stackStatus();
      const rows = [
        ['service', 'source', 'endpoint', 'healthy', 'check'],
        ...status.services.map((s) => [s.service, s.source, s.endpoint, s.healthy ? 'yes' : 'no', s.detail]),
      ];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows)
        console.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  '));
      return status.healthy ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      err instanceof StackUnavailableError
        ? `stack: ${err.message}`
        : `stack ${process.argv[2] ?? ''} failed: ${errorMessage(err)}`,
    );
    process.exit(1);
  },
);
