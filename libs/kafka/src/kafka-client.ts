import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from 'kafkajs';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** ms to wait for a TCP connection to a broker */
  connectionTimeout?: number;
  /** ms to wait for a request's answer */
  requestTimeout?: number;
  /** kafkajs retry count for a request; 0 makes a probe fail fast */
  retries?: number;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
}

const levelName = (level: KafkaLogLevel): 'error' | 'warn' | 'info' | 'debug' =>
  level === KafkaLogLevel.ERROR || level === KafkaLogLevel.NOTHING
    ? 'error'
    : level === KafkaLogLevel.WARN
      ? 'warn'
      : level === KafkaLogLevel.INFO
        ? 'info'
        : 'debug';

/** One place that builds kafkajs clients, so every process gets the same timeouts and logging. */
export function createKafka(opts: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeout ?? 3000,
    requestTimeout: opts.requestTimeout ?? 30000,
    retry: { retries: opts.retries ?? 8, initialRetryTime: 200, maxRetryTime: 10000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        // Only broker and error metadata is logged; payloads never reach kafkajs' log entries.
        const detail = extra.error ? ` (${String(extra.error)})` : '';
        opts.log?.(levelName(level), `${message}${detail}`);
      },
  };
  return new Kafka(config);
}
