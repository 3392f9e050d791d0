import type { ReactNode } from 'react';
import { errorMessage } from '@/api/client';
import { useMe } from '@/hooks/use-me';
import {
  OPS_REFRESH_MS,
  useDeadLetters,
  useOpsDatabase,
  useOpsKafka,
  useOpsLive,
  useOpsSubscriptions,
} from '@/hooks/use-ops';
import { ConsumerGroupsTable } from './consumer-groups-table';
import { DatabaseTable } from './database-table';
import { REPLICA_STATE, replicaLagText } from './database-view';
import { DeadLettersTable } from './dead-letters-table';
import { formatCount, useNow } from './format';
import { KafkaTopicsTable } from './kafka-topics-table';
import { LivePanel } from './live-panel';
import { SubscriptionsTable } from './subscriptions-table';
import { TimeAgo } from './time-ago';
import './ops.css';

/**
 * What the pipeline is doing, for operators (granted with `npm run ops:grant`): a live panel (sync rate, webhook
 * latency, Kafka lag, provider 429s over the last minute, every 5 s), Kafka topics and consumer-group lag (every
 * 5 s), the dead-letter topic with Replay, Graph subscriptions with their expiry, and the database's primary and read
 * replica with its lag (every 5 s). See docs/ops.md.
 */
export function OpsPage() {
  const me = useMe();
  const operator = me.data?.operator === true;
  const kafka = useOpsKafka(operator);
  const deadLetters = useDeadLetters(operator);
  const subscriptions = useOpsSubscriptions(operator);
  const database = useOpsDatabase(operator);
  const live = useOpsLive(operator);
  const now = useNow(10_000);

  if (me.isPending) {
    return (
      <main className="page ops-page">
        <p className="muted" role="status">
          Loading…
        </p>
      </main>
    );
  }
  if (!operator) {
    return (
      <main className="page ops-page">
        <h1>Ops</h1>
        <p role="alert">
          The Ops page is for operators. Ask whoever runs this deployment to run{' '}
          <code>npm run ops:grant -- {me.data?.email ?? '<your email>'}</code>.
        </p>
      </main>
    );
  }

  const overview = kafka.data;
  const subs = subscriptions.data?.items ?? [];
  const attention = subs.filter((s) => s.state !== 'active').length;
  const replica = database.data?.replica;

  return (
    <main className="page ops-page">
      <header className="ops-header">
        <h1>Ops</h1>
        {overview && (
          <p className="muted">
            {overview.topicPrefix ? (
              <>
                Topic prefix <code>{overview.topicPrefix}</code> ·{' '}
              </>
            ) : null}
            Kafka read <TimeAgo iso={overview.fetchedAt} now={now} past />, every{' '}
            {OPS_REFRESH_MS.kafka / 1000} s
          </p>
        )}
      </header>

      <dl className="ops-stats" aria-label="Summary">
        <Stat
          label="Total lag"
          value={overview ? formatCount(overview.totalLag) : '…'}
          alert={(overview?.totalLag ?? 0) > 0}
        />
        <Stat label="Consumer groups" value={overview ? formatCount(overview.groups.length) : '…'} />
        <Stat
          label="Dead letters"
          value={deadLetters.data ? formatCount(deadLetters.data.items.length) : '…'}
          alert={(deadLetters.data?.items.length ?? 0) > 0}
        />
        <Stat
          label="Subscriptions"
          value={subscriptions.data ? formatCount(subscriptions.data.total) : '…'}
          note={attention > 0 ? `${attention} need attention` : undefined}
          alert={attention > 0}
        />
        <Stat
          label="Replica lag"
          value={!replica ? '…' : replica.state === 'off' ? 'off' : replicaLagText(replica)}
          note={replica?.state === 'degraded' ? REPLICA_STATE.degraded.label.toLowerCase() : undefined}
          alert={replica?.state === 'degraded'}
        />
      </dl>

      <Section id="ops-live" title="Live" query={live}>
        {live.data && (
          <>
            <p className="muted ops-small">
              The numbers Prometheus scrapes, read by this producer instance every{' '}
              {OPS_REFRESH_MS.live / 1000} s over the last minute: the consumers’ messages written, this
              instance’s webhook answers, the consumer groups’ lag, the provider’s 429 answers.
            </p>
            <LivePanel live={live.data} />
          </>
        )}
      </Section>

      <Section id="ops-topics" title="Kafka topics" query={kafka}>
        {overview && <KafkaTopicsTable overview={overview} />}
      </Section>

      <Section id="ops-groups" title="Consumer groups and lag" query={kafka}>
        {overview && <ConsumerGroupsTable overview={overview} />}
      </Section>

      <Section id="ops-dead-letters" title="Dead letters" query={deadLetters}>
        {deadLetters.data && (
          <>
            <p className="muted ops-small">
              The newest {deadLetters.data.items.length} on <code>{deadLetters.data.topic}</code>. A replay
              sends the message to its original topic again with a fresh attempt count.
            </p>
            <DeadLettersTable
              items={deadLetters.data.items}
              topicPrefix={overview?.topicPrefix ?? ''}
              now={now}
            />
          </>
        )}
      </Section>

      <Section id="ops-subscriptions" title="Graph subscriptions" query={subscriptions}>
        {subscriptions.data && <SubscriptionsTable items={subs} now={now} />}
      </Section>

      <Section id="ops-database" title="Database" query={database}>
        {database.data && (
          <>
            <p className="muted ops-small">
              The mail queries read the replica while it is serving and has replayed the account’s last write;
              otherwise the primary. Reads are counted by the producer instance that answered, since it
              started; asked every {OPS_REFRESH_MS.database / 1000} s.
            </p>
            <DatabaseTable database={database.data} now={now} />
          </>
        )}
      </Section>
    </main>
  );
}

function Stat({
  label,
  value,
  note,
  alert,
}: {
  label: string;
  value: string;
  note?: string;
  alert?: boolean;
}) {
  return (
    <div className={`ops-stat${alert ? ' ops-stat-alert' : ''}`}>
      <dt>{label}</dt>
      <dd>
        {value}
        {note && <span className="ops-small"> ({note})</span>}
      </dd>
    </div>
  );
}

/** A titled section that shows its query's loading and error states itself. */
function Section({
  id,
  title,
  query,
  children,
}: {
  id: string;
  title: string;
  query: { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown };
  children: ReactNode;
}) {
  return (
    <section className="ops-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {query.isPending && (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
      {query.isError && (
        <p className="ops-fail" role="alert">
          Could not load: {errorMessage(query.error)}{' '}
          <button type="button" onClick={() => void query.refetch()}>
            Try again
          </button>
        </p>
      )}
      {children}
    </section>
  );
}
