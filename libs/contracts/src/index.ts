export { Topics, topicName, projectTopics, type TopicKey, type TopicName, type TopicSpec } from './topics';
export {
  accountStatusSchema,
  domainEventSchema,
  failedMessageSchema,
  syncCompletedSchema,
  syncProgressSchema,
  syncRequestedSchema,
  type AccountStatus,
  type DomainEvent,
  type FailedMessage,
  type SyncCompleted,
  type SyncProgress,
  type SyncRequested,
} from './messages';
