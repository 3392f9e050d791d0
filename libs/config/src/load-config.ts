import type { z } from 'zod';
import { ConfigError } from './config-error';

/**
 * Validates `env` against `schema` once, at boot. Empty strings count as unset, so `FOO=` in a .env file
 * falls back to the default (or is reported as missing) instead of being parsed as a value.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  app: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data as z.output<S>;
  const problems = result.error.issues.map((issue) => ({
    variable: issue.path.join('.') || '(environment)',
    message: issue.message === 'Required' ? 'required but not set' : issue.message,
  }));
  throw new ConfigError(app, problems);
}
