export { createKafka, type KafkaClientOptions } from './kafka-client';
export { ensureTopics, subscribeWhenReady, waitForPartitions, type EnsureTopicsResult } from './topics-admin';
export { probeKafka, type KafkaProbeResult } from './kafka-probe';
export { withTimeout } from './with-timeout';
export {
  KafkaPublisher,
  createPublisher,
  type OutgoingMessage,
  type PublishOptions,
  type PublisherOptions,
} from './publisher';
export { correlationHeaders, correlationIdOf } from './correlation-headers';
export {
  runConsumer,
  type ConsumerLog,
  type MessageContext,
  type MessageOutcome,
  type OutcomeListener,
  type RunConsumerOptions,
  type RunningConsumer,
} from './consumer-runner';
export {
  runRetryConsumer,
  retryAction,
  type RetryAction,
  type RunRetryConsumerOptions,
} from './retry-consumer';
export {
  FAILURES_HEADER,
  PermanentFailure,
  backoffFor,
  decideFailure,
  deliveryAttempt,
  describeError,
  invalidMessageEnvelope,
  parseMessage,
  type FailedDelivery,
  type FailureDecision,
  type ParseResult,
  type RetryPolicy,
} from './failure-policy';
export {
  runBatchConsumer,
  type GroupContext,
  type GroupedMessage,
  type RunBatchConsumerOptions,
} from './batch-consumer-runner';
export {
  KafkaWorker,
  KafkaWorkerGroup,
  type KafkaWorkerLogger,
  type KafkaWorkerOptions,
} from './kafka-worker';
export { partitionOfKey, watchAssignment, type AssignmentListener } from './assignment';
export { LazyAdmin } from './lazy-admin';
export { ConsumerLagReader, partitionLags, type LagName, type PartitionLag } from './partition-lags';
