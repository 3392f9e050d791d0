/** `Retry-After` as whole seconds (only the delta-seconds form, the one the API sends); otherwise undefined */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d{1,9}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

/** "in 8 seconds", "in 15 minutes": how long the server asked us to wait, for a sentence */
export function waitText(seconds: number | undefined): string {
  if (seconds === undefined) return 'in a few minutes';
  if (seconds < 60) return `in ${Math.max(1, seconds)} second${seconds > 1 ? 's' : ''}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes > 1 ? 's' : ''}`;
}
