/**
 * The live connection: placeholder until the realtime work lands (socket.io at /api/v1/realtime, events
 * invalidate the queries in `@/api/query-keys`, a toast on new mail).
 */
export function useRealtime(): void {}
