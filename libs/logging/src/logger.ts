import { pino, stdSerializers, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { currentCorrelationId } from './correlation';
import { redactSecrets } from './redaction';
import { currentRequestId } from './request-id';

/** The apps' LOG_LEVEL values (Nest's names, kept as they were before pino) */
export type NestLogLevel = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';
export type LogFormat = 'json' | 'pretty';

export interface LogSettings {
  /** the process's name, on every line (`app`) */
  app: string;
  /** LOG_LEVEL: the least severe level written (`log` is pino's `info`, `verbose` its `trace`) */
  level: NestLogLevel;
  /** LOG_FORMAT (resolved by libs/config): JSON lines, or pino-pretty's text for people */
  format: LogFormat;
  /** where the lines go: stdout unless given (tests capture them) */
  destination?: DestinationStream;
}

/** LOG_LEVEL's value as pino's level */
export function pinoLevel(level: NestLogLevel): Level {
  const levels: Record<NestLogLevel, Level> = {
    fatal: 'fatal',
    error: 'error',
    warn: 'warn',
    log: 'info',
    debug: 'debug',
    verbose: 'trace',
  };
  return levels[level];
}

/**
 * The fields every line gets from where it is logged: the HTTP request's id (`reqId`) while a request is being
 * served, and the correlation id (`correlationId`) while a change's work runs (a webhook, a Kafka handler). A
 * field the log call sets itself wins.
 */
export function contextFields(): { reqId?: string; correlationId?: string } {
  const fields: { reqId?: string; correlationId?: string } = {};
  const reqId = currentRequestId();
  if (reqId) fields.reqId = reqId;
  const correlationId = currentCorrelationId();
  if (correlationId) fields.correlationId = correlationId;
  return fields;
}

/**
 * pino-pretty's text: `[12:00:00.123] INFO: (req 4f1c…) [Context] message`, then any other fields indented below.
 * Synchronous (no worker thread), so a process that exits right after a line has written it.
 */
function prettyStream(destination?: DestinationStream): DestinationStream {
  return pretty({
    sync: true,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    // the request line's req/res objects too: its message says method, path, status and time (JSON keeps them)
    ignore: 'pid,hostname,app,context,reqId,correlationId,req,res,responseTime',
    messageFormat: prettyMessage,
    ...(destination ? { destination: destination as unknown as NodeJS.WritableStream } : {}),
  });
}

/**
 * A pretty line's text: `(req X)` and `(cid Y)` before the message, the id once when they are the same (an API
 * request's id is its correlation id), then `[Context]`.
 */
export function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const text = (key: string): string | undefined => {
    const v = log[key];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const reqId = text('reqId');
  const correlationId = text('correlationId');
  const context = text('context');
  const parts: string[] = [];
  if (reqId) parts.push(`(req ${reqId})`);
  if (correlationId && correlationId !== reqId) parts.push(`(cid ${correlationId})`);
  if (context) parts.push(`[${context}]`);
  const msg = log[messageKey];
  parts.push(typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg));
  return parts.join(' ');
}

/** pino's error serializer (type, message, stack, code, own fields), its secret fields redacted like a line's */
export function serializeError(err: Error): Record<string, unknown> {
  return redactSecrets({ ...stdSerializers.err(err) });
}

/** The process's root logger: LOG_LEVEL, LOG_FORMAT, the redaction of every secret, the context fields. */
export function createLogger(settings: LogSettings): Logger {
  const destination =
    settings.format === 'pretty'
      ? prettyStream(settings.destination)
      : (settings.destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: pinoLevel(settings.level),
      base: { app: settings.app },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // every secret field of a line's object (libs/logging/src/redaction.ts); the apps make no pino child
        // loggers of their own, and pino-http's (the request line's `req`) goes through its serializer
        log: (object) => redactSecrets(object),
      },
      mixin: contextFields,
      serializers: { err: serializeError },
    },
    destination,
  );
}
