export { createKafka, type KafkaClientOptions } from './kafka-client';
export { ensureTopics, type EnsureTopicsResult } from './topics-admin';
export { probeKafka, type KafkaProbeResult } from './kafka-probe';
export { withTimeout } from './with-timeout';
