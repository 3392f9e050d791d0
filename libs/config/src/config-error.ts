/** Thrown when a process's environment does not satisfy its schema. The message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly problems: ReadonlyArray<{ variable: string; message: string }>,
  ) {
    super(
      `Invalid configuration for ${app}:\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n') +
        '\nSee the configuration table in README.md.',
    );
    this.name = 'ConfigError';
  }
}
