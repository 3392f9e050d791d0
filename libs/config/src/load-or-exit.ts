import { ConfigError } from './config-error';

/**
 * Loads a process's configuration or ends the process with exit code 78 (EX_CONFIG) and a message that
 * names each bad variable. Values are never printed: some of them are secrets.
 */
export function loadOrExit<T>(loader: () => T): T {
  try {
    return loader();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
