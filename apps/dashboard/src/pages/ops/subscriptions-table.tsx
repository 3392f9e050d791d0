import type { GraphSubscription } from '@/hooks/use-ops';
import { TimeAgo } from './time-ago';

const STATE: Record<GraphSubscription['state'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  active: { label: 'Active', tone: 'ok' },
  expiring_soon: { label: 'Expiring soon', tone: 'warn' },
  expired: { label: 'Expired', tone: 'bad' },
};

/** Graph subscriptions, soonest expiry first, with how long each has left. */
export function SubscriptionsTable({ items, now }: { items: GraphSubscription[]; now: number }) {
  if (items.length === 0) {
    return (
      <p className="muted">No Graph subscription is stored: no linked mailbox has finished its first sync.</p>
    );
  }
  return (
    <div className="ops-table-wrap">
      <table className="ops-table">
        <caption className="ops-sr-only">Graph subscriptions</caption>
        <thead>
          <tr>
            <th scope="col">Mailbox</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            <th scope="col">Renewed</th>
            <th scope="col">Subscription</th>
            <th scope="col">Resource</th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.accountId}>
              <th scope="row" title={`account ${s.accountId}`}>
                {s.mailboxEmail}
              </th>
              <td className="nowrap">
                <TimeAgo iso={s.expiresAt} now={now} />
              </td>
              <td>
                <span className={`ops-badge ops-badge-${STATE[s.state].tone}`}>{STATE[s.state].label}</span>
              </td>
              <td className="nowrap">
                {s.renewedAt ? (
                  <TimeAgo iso={s.renewedAt} now={now} past />
                ) : (
                  <span className="muted">never</span>
                )}
              </td>
              <td className="ops-mono">{s.subscriptionId}</td>
              <td className="ops-mono">{s.resource}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
