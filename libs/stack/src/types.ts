export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where the services answer. Written to .stack/endpoints.env as DATABASE_URL, DATABASE_READ_URL, KAFKA_BROKERS, REDIS_CLUSTER_NODES
 * and MAIL_SMTP, MAIL_SUBMISSION, MAIL_IMAP, MAIL_IMAPS.
 */
export interface StackEndpoints {
  /** URL of the project's main database (the primary), e.g. postgres://postgres@127.0.0.1:5433/email_core */
  databaseUrl: string;
  /** the same database on the hot standby, e.g. postgres://postgres@127.0.0.1:5434/email_core; absent without a replica */
  databaseReadUrl?: string;
  /** e.g. ['127.0.0.1:9092'] */
  kafkaBrokers: string[];
  /** seed nodes of the Redis Cluster, e.g. 127.0.0.1:7000..7005 */
  redisClusterNodes: HostPort[];
  /** the mail server's endpoints (MAIL_SMTP, MAIL_SUBMISSION, MAIL_IMAP, MAIL_IMAPS); absent where only the three were resolved */
  mail?: MailEndpoints;
  /** how each service was obtained */
  sources: { postgres: StackSource; kafka: StackSource; redis: StackSource; mail?: StackSource };
}

/** The local mail server's endpoints, each `host:port`. */
export interface MailEndpoints {
  /** plain SMTP, no AUTH, accepts any recipient on any domain (127.0.0.1:2525) */
  smtp: string;
  /** submission: STARTTLS required, then AUTH PLAIN/LOGIN with any address and DEV_MAIL_PASSWORD (127.0.0.1:2587) */
  submission: string;
  /** IMAP with STARTTLS (127.0.0.1:2143) */
  imap: string;
  /** IMAP over TLS (127.0.0.1:2993) */
  imaps: string;
}

export type StackSource = 'env' | 'docker' | 'local-started' | 'local-existing';

/** The checkout's own PostgreSQL primary + hot standby, as recorded in .stack/state.json for `down`. */
export interface PgPairState {
  binDir: string;
  /** `.stack/pg` or its /var/tmp stand-in */
  root: string;
  primaryDir: string;
  replicaDir: string;
  primaryPort: number;
  replicaPort: number;
}
