/** The digits a code field keeps from what was typed or pasted: spaces, dashes and any words around it go. */
export function codeDigits(input: string): string {
  return input.replace(/\D/g, '').slice(0, 6);
}

/** Six digits, ready to send. */
export function isCompleteCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** "0:27", "14:52": a countdown as minutes and seconds. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Seconds a "send again" waits after a mail went out, before the server would have to say 429. */
export const RESEND_COOLDOWN_SECONDS = 30;
