import { ApiError, errorMessage } from '@/api/client';
import { useReplayDeadLetter, type DeadLetter } from '@/hooks/use-ops';
import { prettyPayload, withoutPrefix } from './format';
import { TimeAgo } from './time-ago';

/** The newest dead letters: where each failed, how often, why, its payload, and a Replay button. */
export function DeadLettersTable({
  items,
  topicPrefix,
  now,
}: {
  items: DeadLetter[];
  topicPrefix: string;
  now: number;
}) {
  if (items.length === 0) {
    return <p className="muted">The dead-letter topic is empty: nothing has failed for good.</p>;
  }
  return (
    <div className="ops-table-wrap">
      <table className="ops-table ops-dead-letters">
        <caption className="ops-sr-only">Dead letters</caption>
        <thead>
          <tr>
            <th scope="col">Dead-lettered</th>
            <th scope="col">Original topic</th>
            <th scope="col">Key</th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col">Error</th>
            <th scope="col">Payload</th>
            <th scope="col">Replay</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={`${d.partition}:${d.offset}`}>
              <td className="nowrap">
                <TimeAgo iso={d.timestamp} now={now} past />
                <div className="muted ops-small">
                  {d.partition}@{d.offset}
                </div>
                {d.correlationId && (
                  <div
                    className="muted ops-small ops-mono"
                    title="correlation id: the failed work's log lines carry it (search the logs for it)"
                  >
                    id {d.correlationId}
                  </div>
                )}
              </td>
              <td className="nowrap" title={d.originalTopic ?? undefined}>
                {d.originalTopic ? (
                  withoutPrefix(d.originalTopic, topicPrefix)
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="ops-mono">
                {d.key ? (
                  <span className="ops-key" title={d.key}>
                    {d.key}
                  </span>
                ) : (
                  <span className="muted">(none)</span>
                )}
              </td>
              <td className="num">{d.attempts ?? '—'}</td>
              <td className="ops-error">{d.error}</td>
              <td>
                <details className="ops-payload">
                  <summary>{d.payloadTruncated ? 'Payload (cut)' : 'Payload'}</summary>
                  <pre>{prettyPayload(d.payload)}</pre>
                </details>
              </td>
              <td>
                <ReplayCell deadLetter={d} topicPrefix={topicPrefix} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Replay, then its outcome in place; disabled once the dead letter was replayed (here or by anyone). */
function ReplayCell({
  deadLetter,
  topicPrefix,
  now,
}: {
  deadLetter: DeadLetter;
  topicPrefix: string;
  now: number;
}) {
  const replay = useReplayDeadLetter();
  if (!deadLetter.replayable) return <span className="muted">Not replayable</span>;
  const alreadyReplayed = replay.error instanceof ApiError && replay.error.code === 'ALREADY_REPLAYED';
  const replayedAt = replay.data?.replayedAt ?? deadLetter.replayedAt;
  const done = replayedAt !== null || alreadyReplayed;
  return (
    <div className="ops-replay">
      <button
        type="button"
        onClick={() => replay.mutate({ partition: deadLetter.partition, offset: deadLetter.offset })}
        disabled={done || replay.isPending}
        aria-label={`Replay dead letter ${deadLetter.partition}@${deadLetter.offset}`}
      >
        {replay.isPending ? 'Replaying…' : done ? 'Replayed' : 'Replay'}
      </button>
      {replay.isSuccess && (
        <span role="status" className="ops-ok" title={replay.data.originalTopic}>
          Sent again to {withoutPrefix(replay.data.originalTopic, topicPrefix)}
        </span>
      )}
      {replay.isError && (
        <span role="alert" className={alreadyReplayed ? 'muted' : 'ops-fail'}>
          {errorMessage(replay.error)}
        </span>
      )}
      {!replay.isSuccess && !replay.isError && replayedAt && (
        <span className="muted ops-small">
          replayed <TimeAgo iso={replayedAt} now={now} past />
        </span>
      )}
    </div>
  );
}
