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

  static fromEnv(env: NodeJS.ProcessEnv = process.env): IdentitySettings {
    const d = new IdentitySettings();
    return new IdentitySettings(
      positiveInt(env, 'EMULATOR_AUTH_CODE_TTL_SECONDS', d.authCodeTtlSeconds),
      positiveInt(env, 'EMULATOR_REFRESH_TOKEN_INACTIVE_SECONDS', d.refreshTokenInactiveSeconds),
      positiveInt(env, 'EMULATOR_DEVICE_CODE_TTL_SECONDS', d.deviceCodeTtlSeconds),
      d.deviceCodePollIntervalSeconds,
    );
  }
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new Error(`${name}: must be a positive whole number of seconds (got "${raw}")`);
  }
  return Number(raw);
}
