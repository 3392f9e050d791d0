import { Injectable } from '@nestjs/common';
import type { Mailbox } from '../../store/model';
import { isActive, type Caller, type Subscription } from './subscription';

/** every subscription, in memory, indexed by id and by mailbox (change fan-out looks up by mailbox) */
@Injectable()
export class SubscriptionRepository {
  private readonly byId = new Map<string, Subscription>();
  private readonly byMailbox = new Map<Mailbox, Set<Subscription>>();

  add(sub: Subscription): void {
    this.byId.set(sub.id, sub);
    let set = this.byMailbox.get(sub.mailbox);
    if (!set) {
      set = new Set();
      this.byMailbox.set(sub.mailbox, set);
    }
    set.add(sub);
  }

  get(id: string): Subscription | undefined {
    return this.byId.get(id);
  }

  /** the caller's own subscription, while it has not expired */
  findOwned(caller: Caller, id: string, now: number): Subscription | undefined {
    const sub = this.byId.get(id);
    return sub && ownedBy(sub, caller) && isActive(sub, now) ? sub : undefined;
  }

  listOwned(caller: Caller, now: number): Subscription[] {
    return [...(this.byMailbox.get(caller.mailbox) ?? [])].filter(
      (s) => ownedBy(s, caller) && isActive(s, now),
    );
  }

  /** unexpired subscriptions on a mailbox, across all apps */
  activeOn(mailbox: Mailbox, now: number): Subscription[] {
    return [...(this.byMailbox.get(mailbox) ?? [])].filter((s) => isActive(s, now));
  }

  remove(id: string): Subscription | undefined {
    const sub = this.byId.get(id);
    if (!sub) return undefined;
    this.byId.delete(id);
    const set = this.byMailbox.get(sub.mailbox);
    set?.delete(sub);
    if (set?.size === 0) this.byMailbox.delete(sub.mailbox);
    return sub;
  }

  all(): Subscription[] {
    return [...this.byId.values()];
  }

  clear(): void {
    this.byId.clear();
    this.byMailbox.clear();
  }
}

const ownedBy = (sub: Subscription, caller: Caller): boolean =>
  sub.mailbox === caller.mailbox && sub.applicationId === caller.appId;
