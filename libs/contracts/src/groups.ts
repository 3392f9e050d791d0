/**
 * Every Kafka consumer group of the product, beside the topic names (topics.ts): the only place a group name is
 * spelled. A deployment's groups run under its topic prefix (`KAFKA_TOPIC_PREFIX`, a test run's own prefix),
 * like its topics: `${prefix}${ConsumerGroups.sync}`.
 */
export const ConsumerGroups = {
  /** the sync workers (`Topics.syncRequests`) */
  sync: 'email-core-sync',
  /** the live-change workers (the pokes; the name predates them, kept so deployed groups and dashboards stay) */
  notifications: 'email-core-notifications',
  /** the subscription (watcher) workers (`Topics.subscriptions`) */
  subscriptions: 'email-core-subscriptions',
  /** the mail-action workers (`Topics.mailCommands`) */
  mailCommands: 'email-core-mail-commands',
  /** the mailer (`Topics.systemMail`): sign-in codes and address verification over SMTP */
  mailer: 'email-core-mailer',
  /** the retry consumer (`Topics.retry`) */
  retry: 'email-core-retry',
} as const;

export type ConsumerGroupKey = keyof typeof ConsumerGroups;
export type ConsumerGroupName = (typeof ConsumerGroups)[ConsumerGroupKey];

/** what every group of the product starts with (after the prefix): how the Ops page tells ours from others */
export const CONSUMER_GROUP_STEM = 'email-core-';

/**
 * Each API instance reads the events topic in a group of its own (real-time sockets), named after the instance:
 * letters, digits, dot, dash and underscore are kept, anything else becomes a dash.
 */
export function realtimeGroupName(instance: string): string {
  return `${CONSUMER_GROUP_STEM}realtime-${instance.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}
