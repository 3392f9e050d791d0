import type { KafkaOverview } from '@/hooks/use-ops';
import { formatCount, withoutPrefix } from './format';

/** Every project topic: its partitions with their end offsets, and what it retains. */
export function KafkaTopicsTable({ overview }: { overview: KafkaOverview }) {
  return (
    <div className="ops-table-wrap">
      <table className="ops-table">
        <caption className="ops-sr-only">Kafka topics</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col" className="num">
              Partitions
            </th>
            <th scope="col">End offset per partition</th>
            <th scope="col" className="num">
              End offsets
            </th>
            <th scope="col" className="num">
              Retained
            </th>
          </tr>
        </thead>
        <tbody>
          {overview.topics.map((topic) => (
            <tr key={topic.name}>
              <th scope="row" title={topic.name}>
                <span className="ops-name">{withoutPrefix(topic.name, overview.topicPrefix)}</span>
                {!topic.exists && <span className="ops-badge ops-badge-bad">missing</span>}
              </th>
              <td className="num">{topic.partitions.length}</td>
              <td>
                <ul className="ops-partitions" aria-label={`End offsets of ${topic.key}`}>
                  {topic.partitions.map((p) => (
                    <li
                      key={p.partition}
                      title={`partition ${p.partition}: offsets ${p.lowOffset}–${p.endOffset}`}
                    >
                      <span className="muted">{p.partition}:</span> {formatCount(p.endOffset)}
                    </li>
                  ))}
                </ul>
              </td>
              <td className="num">{formatCount(topic.endOffsetTotal)}</td>
              <td className="num">{formatCount(topic.partitions.reduce((n, p) => n + p.messages, 0))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
