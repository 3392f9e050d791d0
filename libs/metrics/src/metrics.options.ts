export interface MetricsOptions {
  /** `METRICS_TOKEN`: when set, `GET /metrics` answers only `Authorization: Bearer <token>`; unset: open */
  token?: string;
  /** the Node.js and process metrics (default true; unit tests may leave them out) */
  defaultMetrics?: boolean;
}

export const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');
