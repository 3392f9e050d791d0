import { partitionOfKey } from '@email-core/kafka';

/** How each account this process owns is watched. */
export interface ConnectionPlan {
  /** an IDLE connection (INBOX) plus STATUS polls of the other folders */
  idle: string[];
  /** beyond the connection budget: STATUS of every folder each poll */
  polled: string[];
}

/**
 * The accounts this process owns: those whose key (the account id) falls on a partition of the pokes topic its
 * consumer holds. Nothing is owned before the first assignment is known.
 */
export function ownedAccounts(
  accountIds: readonly string[],
  assigned: ReadonlySet<number> | undefined,
  partitionCount: number | undefined,
): string[] {
  if (!assigned || assigned.size === 0 || !partitionCount) return [];
  return accountIds.filter((id) => assigned.has(partitionOfKey(id, partitionCount)));
}

/**
 * Splits owned accounts between IDLE and polling under the budget `maxConnections`. Stable: an account that has
 * an IDLE connection keeps it while it is still owned (no churn when the set grows), the free places go to the
 * others in id order, and the rest are polled.
 */
export function planConnections(
  owned: readonly string[],
  connected: ReadonlySet<string>,
  maxConnections: number,
): ConnectionPlan {
  const budget = Math.max(0, maxConnections);
  const sorted = [...new Set(owned)].sort();
  const idle = sorted.filter((id) => connected.has(id)).slice(0, budget);
  for (const id of sorted) {
    if (idle.length >= budget) break;
    if (!connected.has(id)) idle.push(id);
  }
  const idleSet = new Set(idle);
  return { idle: idle.sort(), polled: sorted.filter((id) => !idleSet.has(id)) };
}
