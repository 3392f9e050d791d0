import { z } from 'zod';
import { loadConfig, positiveInt } from '@email-core/config';

/**
 * Lifetimes of the identity platform's grants. Microsoft's values by default; tests shorten them through the
 * environment to reach expiry without waiting (an expired code, a refresh token past its inactivity window).
 */
export class IdentitySettings {
  constructor(
    /** authorization codes live about 10 minutes (v2-oauth2-auth-code-flow.md) */
    readonly authCodeTtlSeconds = 600,
    /** refresh tokens expire after 90 days without use (refresh-tokens.md) */
    readonly refreshTokenInactiveSeconds = 90 * 24 * 3600,
    /** device codes: `expires_in` 900 (v2-oauth2-device-code.md) */
    readonly deviceCodeTtlSeconds = 900,
    /** device codes: `interval` 5 */
    readonly deviceCodePollIntervalSeconds = 5,
  ) {}

  /** from the environment; a bad value is a ConfigError naming the variable (the process exits 78) */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): IdentitySettings {
    const d = new IdentitySettings();
    const e = loadConfig(
      'outlook-emulator',
      z.object({
        EMULATOR_AUTH_CODE_TTL_SECONDS: positiveInt(d.authCodeTtlSeconds),
        EMULATOR_REFRESH_TOKEN_INACTIVE_SECONDS: positiveInt(d.refreshTokenInactiveSeconds),
        EMULATOR_DEVICE_CODE_TTL_SECONDS: positiveInt(d.deviceCodeTtlSeconds),
      }),
      Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== '')),
    );
    return new IdentitySettings(
      e.EMULATOR_AUTH_CODE_TTL_SECONDS,
      e.EMULATOR_REFRESH_TOKEN_INACTIVE_SECONDS,
      e.EMULATOR_DEVICE_CODE_TTL_SECONDS,
      d.deviceCodePollIntervalSeconds,
    );
  }
}
