import { AppError } from '../http/app-error';

/** Redis must answer a rate-limit or code check within this; otherwise the request fails with 503 rather than hang. */
const REDIS_TIMEOUT_MS = 2000;

/** Awaits a Redis command, bounded in time; a failure or timeout is 503 SERVICE_UNAVAILABLE naming `what`. */
export async function redisCall<T>(command: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), REDIS_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([command, timeout]);
  } catch (cause) {
    command.catch(() => undefined);
    throw new AppError('SERVICE_UNAVAILABLE', 'unavailable', `the ${what} is unavailable`, {
      retryAfterSeconds: 5,
      cause,
    });
  } finally {
    clearTimeout(timer);
  }
}
