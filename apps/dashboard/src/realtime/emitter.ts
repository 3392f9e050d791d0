/**
 * One process-wide fan-out of the socket's events: the socket (see `useRealtime`) feeds it, and any component
 * subscribes to a raw event by name through `useRealtimeEvent`. Handlers run synchronously in subscription order;
 * one that throws does not stop the others.
 */
type Handler = (payload: unknown) => void;

const handlers = new Map<string, Set<Handler>>();

export function subscribe(event: string, handler: Handler): () => void {
  let set = handlers.get(event);
  if (!set) {
    set = new Set();
    handlers.set(event, set);
  }
  set.add(handler);
  return () => {
    set.delete(handler);
    if (set.size === 0) handlers.delete(event);
  };
}

export function emit(event: string, payload: unknown): void {
  const set = handlers.get(event);
  if (!set) return;
  for (const handler of [...set]) {
    try {
      handler(payload);
    } catch (err) {
      // a broken subscriber must not starve the others: report it and go on
      console.error(`realtime subscriber of ${event} failed`, err);
    }
  }
}
