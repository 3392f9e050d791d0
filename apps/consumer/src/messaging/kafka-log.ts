import type { Logger } from '@nestjs/common';
import type { ConsumerLog } from '@email-core/kafka';

/** kafkajs and runner log lines into a Nest logger (they carry ids and errors, never payloads). */
export function kafkaLog(logger: Logger): ConsumerLog {
  return (level, message) => {
    if (level === 'error') logger.error(message);
    else if (level === 'warn') logger.warn(message);
    else if (level === 'info') logger.log(message);
    else logger.debug(message);
  };
}
