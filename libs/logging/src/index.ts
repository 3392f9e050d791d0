export {
  acceptCorrelationId,
  currentCorrelationId,
  newCorrelationId,
  runWithCorrelation,
  type CorrelationContext,
} from './correlation';
export { createHttpLogger, loggableHeaders, type HttpLoggingOptions } from './http-logger';
export {
  contextFields,
  createLogger,
  pinoLevel,
  type LogFormat,
  type LogSettings,
  type NestLogLevel,
} from './logger';
export { HttpLogging, LoggingModule, ROOT_LOGGER, withLogging } from './logging.module';
export { redactSecrets, redactUrl, REDACTED, SECRET_FIELDS, SECRET_HEADERS } from './redaction';
export {
  acceptRequestId,
  currentRequestId,
  REQUEST_ID_HEADER,
  requestIdOf,
  runWithRequestId,
} from './request-id';
export { Logger as AppLogger } from 'nestjs-pino';
