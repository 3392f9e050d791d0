import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * How a subscription's clientState is stored (`graph_subscriptions.client_state_hash`): SHA-256 of its UTF-8
 * bytes, in hex. The subscription manager hashes with the same function when it creates a subscription.
 */
export function hashClientState(clientState: string): string {
  return createHash('sha256').update(clientState, 'utf8').digest('hex');
}

/**
 * Does a notification's clientState match the stored hash? Compared as digests in constant time, so the time
 * taken says nothing about how much of a guess was right. A missing clientState never matches.
 */
export function clientStateMatches(given: string | null | undefined, storedHashHex: string): boolean {
  if (typeof given !== 'string') return false;
  const stored = Buffer.from(storedHashHex, 'hex');
  // one-shot: half the time of a Hash object, per item of every POST (issue 20)
  const actual = hash('sha256', given, 'buffer');
  return stored.length === actual.length && timingSafeEqual(stored, actual);
}
