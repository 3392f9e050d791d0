/**
 * Every Kafka topic of the product. This is the only place a topic name is spelled.
 * Keys: every message is keyed by account id, so one mailbox's work stays ordered on one partition.
 */
export const Topics = {
  /** Initial and re-sync of a mailbox (was `sync_email`). */
  syncRequests: 'email-core.sync.requests',
  /**
   * Provider-neutral pokes (`mailbox.poke`): "account X, these messages or folders changed", from any watcher
   * (the Graph webhook, IMAP IDLE, the reconciliation, a mail action).
   */
  mailboxPokes: 'email-core.mailbox.pokes',
  /** Subscription ensure/renew/lifecycle work (was `create_email_subscripiton`, `update_email_subscripiton`, `create_email_subscription_cron`). */
  subscriptions: 'email-core.graph.subscriptions',
  /** User actions written back to Outlook: read, flag, move, delete, send. */
  mailCommands: 'email-core.mail.commands',
  /**
   * Mail the product sends itself (`system.mail`: sign-in codes, address verification), written through the
   * outbox and sent by the consumer's mailer over SMTP. Keyed by mail id; the code travels sealed.
   */
  systemMail: 'email-core.system-mail',
  /** Domain events for dashboards and acknowledgements (was `email_ack`). */
  events: 'email-core.events',
  /** Failed handler work waiting for a delayed retry. */
  retry: 'email-core.retry',
  /** Work that failed a bounded number of times; listed and replayable from the Ops page. */
  deadLetter: 'email-core.dead-letter',
} as const;

export type TopicKey = keyof typeof Topics;

/**
 * The work topics the consumer's workers read: the ones the retry consumer republishes to and a dead letter may be
 * replayed to (not the events topic, whose readers never dead-letter, nor the retry or dead-letter topics).
 */
export const WORK_TOPICS = [
  Topics.syncRequests,
  Topics.mailboxPokes,
  Topics.subscriptions,
  Topics.mailCommands,
  Topics.systemMail,
] as const;
export type TopicName = (typeof Topics)[TopicKey];

/** The full name of a topic under a deployment's prefix (tests use a per-run prefix for isolation). */
export function topicName(prefix: string, topic: TopicName): string {
  return `${prefix}${topic}`;
}

export interface TopicSpec {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: Array<{ name: string; value: string }>;
}

/** The topics the project creates, with their partition counts and settings. */
export function projectTopics(opts: {
  prefix: string;
  partitions: number;
  replicationFactor: number;
}): TopicSpec[] {
  const week = String(7 * 24 * 3600 * 1000);
  const month = String(30 * 24 * 3600 * 1000);
  return (Object.values(Topics) as TopicName[]).map((topic) => ({
    name: topicName(opts.prefix, topic),
    numPartitions: opts.partitions,
    replicationFactor: opts.replicationFactor,
    configEntries: [{ name: 'retention.ms', value: topic === Topics.deadLetter ? month : week }],
  }));
}
