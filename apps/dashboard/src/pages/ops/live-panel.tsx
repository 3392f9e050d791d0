import { useEffect, useRef, useState } from 'react';
import type { LiveMetrics } from '@/hooks/use-ops';
import { formatCount } from './format';
import { formatLatency, formatRate, plural, sparklinePoints, syncRateGap, windowText } from './live-view';

/** how many of the page's readings the sparklines keep (every 5 s: five minutes) */
const HISTORY = 60;

/**
 * The live panel: the numbers Prometheus scrapes (issue 22), read by the answering producer instance every 5 s,
 * over the last minute: messages synced per second (every configured consumer's GET /metrics), the webhook's
 * answer time p95 (this producer's), the consumer groups' Kafka lag (asked of the broker), and provider 429s.
 * Sparklines show the readings since the page opened.
 */
export function LivePanel({ live }: { live: LiveMetrics }) {
  const history = useHistory(live);
  const gap = syncRateGap(live);
  const span = windowText(live);
  return (
    <dl className="ops-stats ops-live" aria-label="Live metrics">
      <LiveStat
        label="Sync rate"
        value={formatRate(live.syncMessagesPerSecond)}
        note={gap ?? `${plural(live.syncMessages ?? 0, 'message', 'messages')}, ${span}`}
        values={history.map((h) => h.syncMessagesPerSecond ?? 0)}
      />
      <LiveStat
        label="Webhook p95"
        value={formatLatency(live.webhookP95Seconds)}
        note={`${plural(live.webhookRequests, 'answer', 'answers')}, ${span}`}
        values={history.map((h) => h.webhookP95Seconds ?? 0)}
      />
      <LiveStat
        label="Kafka lag"
        value={live.kafkaLag === null ? '—' : formatCount(live.kafkaLag)}
        note={live.kafkaError ?? 'messages not yet handled, every group'}
        alert={(live.kafkaLag ?? 0) > 0 || live.kafkaError !== null}
        values={history.map((h) => h.kafkaLag ?? 0)}
      />
      <LiveStat
        label="Provider 429s"
        value={formatCount(live.provider429s)}
        note={`throttled requests, ${span}`}
        alert={live.provider429s > 0}
        values={history.map((h) => h.provider429s)}
      />
    </dl>
  );
}

/** the readings since the page opened (one per answer, the newest last) */
function useHistory(live: LiveMetrics): LiveMetrics[] {
  const [history, setHistory] = useState<LiveMetrics[]>([]);
  const last = useRef<string | null>(null);
  useEffect(() => {
    if (last.current === live.fetchedAt) return;
    last.current = live.fetchedAt;
    setHistory((h) => [...h, live].slice(-HISTORY));
  }, [live]);
  return history;
}

function LiveStat({
  label,
  value,
  note,
  alert,
  values,
}: {
  label: string;
  value: string;
  note: string;
  alert?: boolean;
  values: number[];
}) {
  return (
    <div className={`ops-stat${alert ? ' ops-stat-alert' : ''}`}>
      <dt>{label}</dt>
      <dd>
        <span className="ops-live-value">{value}</span>
        <span className="ops-small ops-live-note">{note}</span>
        {values.length > 1 && (
          <svg className="ops-sparkline" viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true">
            <polyline points={sparklinePoints(values, 100, 22)} transform="translate(0 1)" />
          </svg>
        )}
      </dd>
    </div>
  );
}
