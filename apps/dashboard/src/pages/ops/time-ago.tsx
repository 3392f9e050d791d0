import { absoluteTime, relativeTime } from './format';

/** A `<time>` showing a relative time, with the exact one in its tooltip; `past` for things that happened. */
export function TimeAgo({ iso, now, past = false }: { iso: string; now: number; past?: boolean }) {
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso, now, past)}
    </time>
  );
}
