import type { DatabaseOverview } from '@/hooks/use-ops';
import { primaryState, REPLICA_STATE, replicaLagText, replicaShare } from './database-view';
import { formatCount } from './format';
import { TimeAgo } from './time-ago';

/**
 * The primary and the read replica side by side: each one's state, where it is (the primary's WAL position, the
 * replica's lag behind it in time and in WAL bytes), and the reads each served in the answering producer instance.
 */
export function DatabaseTable({ database, now }: { database: DatabaseOverview; now: number }) {
  const { primary, replica } = database;
  const primaryBadge = primaryState(primary);
  const replicaBadge = REPLICA_STATE[replica.state];
  const share = replicaShare(replica.reads);
  return (
    <div className="ops-table-wrap">
      <table className="ops-table">
        <caption className="ops-sr-only">Database primary and read replica</caption>
        <thead>
          <tr>
            <th scope="col">Server</th>
            <th scope="col">State</th>
            <th scope="col">Position</th>
            <th scope="col" className="num">
              Reads served
            </th>
            <th scope="col">Checked</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Primary</th>
            <td>
              <span className={`ops-badge ops-badge-${primaryBadge.tone}`}>{primaryBadge.label}</span>
              {primary.error && <div className="ops-error ops-small ops-fail">{primary.error}</div>}
            </td>
            <td className="nowrap">
              {primary.walLsn ? (
                <>
                  <span className="muted">WAL</span> <span className="ops-mono">{primary.walLsn}</span>
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td className="num">
              {formatCount(replica.reads.primary)}
              {replica.reads.fallbacks > 0 && (
                <div
                  className="ops-small ops-lagging"
                  title="replica reads that failed and ran on the primary"
                >
                  {formatCount(replica.reads.fallbacks)}{' '}
                  {replica.reads.fallbacks === 1 ? 'fallback' : 'fallbacks'}
                </div>
              )}
            </td>
            <td className="nowrap">
              <TimeAgo iso={database.fetchedAt} now={now} past />
              {primary.latencyMs !== null && (
                <span className="muted ops-small"> ({formatCount(primary.latencyMs)} ms)</span>
              )}
            </td>
          </tr>
          <tr>
            <th scope="row">Read replica</th>
            <td>
              <span className={`ops-badge ops-badge-${replicaBadge.tone}`}>{replicaBadge.label}</span>
              {replica.state === 'off' ? (
                <div className="ops-error ops-small muted">
                  No replica configured (<code>DATABASE_READ_URL</code> unset): every read goes to the
                  primary.
                </div>
              ) : (
                replica.reason && <div className="ops-error ops-small">{replica.reason}</div>
              )}
            </td>
            <td className="nowrap">
              {replica.state === 'off' ? (
                <span className="muted">—</span>
              ) : (
                <>
                  <span className="muted">lag</span>{' '}
                  <span className={replica.state === 'degraded' ? 'ops-lagging' : undefined}>
                    {replicaLagText(replica)}
                  </span>
                </>
              )}
            </td>
            <td className="num">
              {formatCount(replica.reads.replica)}
              {share !== null && replica.configured && (
                <div className="ops-small muted">{share}% of reads</div>
              )}
            </td>
            <td className="nowrap">
              {replica.checkedAt ? (
                <TimeAgo iso={replica.checkedAt} now={now} past />
              ) : (
                <span className="muted">{replica.configured ? 'not yet' : '—'}</span>
              )}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
