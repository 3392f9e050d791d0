import type { ConsumerGroup, KafkaOverview } from '@/hooks/use-ops';
import { formatCount, withoutPrefix } from './format';

const STATE_TONE: Record<ConsumerGroup['state'], 'ok' | 'warn' | 'bad'> = {
  Stable: 'ok',
  PreparingRebalance: 'warn',
  CompletingRebalance: 'warn',
  Empty: 'warn',
  Dead: 'bad',
  Unknown: 'bad',
};

/**
 * One row group per consumer group (its state, members and total lag), then a row per topic partition it
 * consumes: committed offset, end offset and lag. A partition where the group has committed nothing shows a dash;
 * partitions that never held a message and have no commit are summed up in one line, so the lag stands out.
 */
export function ConsumerGroupsTable({ overview }: { overview: KafkaOverview }) {
  if (overview.groups.length === 0) {
    return <p className="muted">No consumer group of this deployment is known to the broker.</p>;
  }
  return (
    <div className="ops-table-wrap">
      <table className="ops-table ops-groups">
        <caption className="ops-sr-only">Consumer groups</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col" className="num">
              Partition
            </th>
            <th scope="col" className="num">
              Committed
            </th>
            <th scope="col" className="num">
              End offset
            </th>
            <th scope="col" className="num">
              Lag
            </th>
          </tr>
        </thead>
        {overview.groups.map((group) => (
          <tbody key={group.groupId}>
            <tr className="ops-group-head">
              <th scope="rowgroup" colSpan={5} title={group.groupId}>
                <span className="ops-name">{withoutPrefix(group.groupId, overview.topicPrefix)}</span>
                <span className={`ops-badge ops-badge-${STATE_TONE[group.state]}`}>{group.state}</span>
                <span className="muted">
                  {group.members} {group.members === 1 ? 'member' : 'members'}
                </span>
                <span className="ops-group-lag">
                  Total lag{' '}
                  <strong className={group.totalLag > 0 ? 'ops-lagging' : undefined}>
                    {formatCount(group.totalLag)}
                  </strong>
                </span>
              </th>
            </tr>
            {group.topics.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No committed offsets yet
                </td>
              </tr>
            )}
            {group.topics.flatMap((topic) => {
              const name = withoutPrefix(topic.topic, overview.topicPrefix);
              const shown = topic.partitions.filter((p) => p.committedOffset !== null || p.endOffset > 0);
              const idle = topic.partitions.length - shown.length;
              return [
                ...shown.map((p) => (
                  <tr key={`${topic.topic}:${p.partition}`}>
                    <td className="nowrap" title={topic.topic}>
                      {name}
                    </td>
                    <td className="num">{p.partition}</td>
                    <td className="num">
                      {p.committedOffset === null ? '—' : formatCount(p.committedOffset)}
                    </td>
                    <td className="num">{formatCount(p.endOffset)}</td>
                    <td className={`num${(p.lag ?? 0) > 0 ? ' ops-lagging' : ''}`}>
                      {p.lag === null ? '—' : formatCount(p.lag)}
                    </td>
                  </tr>
                )),
                ...(idle > 0
                  ? [
                      <tr key={`${topic.topic}:idle`} className="ops-idle">
                        <td className="nowrap" title={topic.topic}>
                          {name}
                        </td>
                        <td colSpan={4} className="muted">
                          {idle === topic.partitions.length ? 'all' : idle}{' '}
                          {idle === 1 ? 'partition' : 'partitions'} empty, nothing to commit
                        </td>
                      </tr>,
                    ]
                  : []),
              ];
            })}
          </tbody>
        ))}
      </table>
    </div>
  );
}
