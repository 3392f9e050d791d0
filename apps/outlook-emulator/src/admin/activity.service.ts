import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { prng } from '../store/generator';
import { person } from '../store/generator';
import { MailboxStore } from '../store/mailbox-store';
import type { FolderRecord, Mailbox, MessageRecord } from '../store/model';

export interface ActivityInput {
  creates: number;
  updates: number;
  moves: number;
  deletes: number;
  perSecond?: number;
  seconds?: number;
  seed?: number;
}

export interface ActivityRun {
  id: number;
  address: string;
  total: number;
  done: number;
  counts: { creates: number; updates: number; moves: number; deletes: number };
  state: 'running' | 'finished' | 'stopped';
  finished: Promise<void>;
}

/**
 * Random activity in a mailbox as another client would cause it: new mail, read/flag/subject changes, moves
 * between folders and deletes, at a given rate, in a random (seeded) order. Each change goes through the
 * store, so delta and subscriptions see it exactly as they see any other change.
 */
@Injectable()
export class ActivityService implements OnModuleDestroy {
  private runs = new Map<number, ActivityRun & { timer?: NodeJS.Timeout; resolve?: () => void }>();
  private nextId = 1;

  constructor(private readonly store: MailboxStore) {}

  start(mailbox: Mailbox, input: ActivityInput): ActivityRun {
    const ops: ('creates' | 'updates' | 'moves' | 'deletes')[] = [];
    for (const k of ['creates', 'updates', 'moves', 'deletes'] as const)
      for (let i = 0; i < input[k]; i++) ops.push(k);
    const r = prng(input.seed ?? Date.now());
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [ops[i], ops[j]] = [ops[j], ops[i]];
    }
    const total = ops.length;
    const perSecond = input.perSecond ?? (input.seconds ? Math.max(1, total / input.seconds) : 0);
    const run: ActivityRun & { timer?: NodeJS.Timeout; resolve?: () => void } = {
      id: this.nextId++,
      address: mailbox.address,
      total,
      done: 0,
      counts: { creates: 0, updates: 0, moves: 0, deletes: 0 },
      state: 'running',
      finished: Promise.resolve(),
    };
    this.runs.set(run.id, run);
    run.finished = new Promise<void>((resolve) => {
      run.resolve = resolve;
      const step = (n: number) => {
        for (let i = 0; i < n && run.done < total && run.state === 'running'; i++) {
          const op = ops[run.done];
          if (this.apply(mailbox, op, r)) run.counts[op]++;
          run.done++;
        }
        if (run.done >= total || run.state !== 'running') {
          if (run.state === 'running') run.state = 'finished';
          resolve();
          return true;
        }
        return false;
      };
      if (!perSecond) {
        step(total);
        return;
      }
      // ticks of 20 ms, carrying the fractional rate over so the average is exact
      const started = Date.now();
      const tick = () => {
        const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * perSecond) + 1);
        if (step(due - run.done)) return;
        run.timer = setTimeout(tick, 20);
      };
      tick();
    });
    return run;
  }

  get(id: number): ActivityRun | undefined {
    return this.runs.get(id);
  }

  private apply(mailbox: Mailbox, op: 'creates' | 'updates' | 'moves' | 'deletes', r: () => number): boolean {
    const folders = this.store.allFolders(mailbox).filter((f) => !f.isHidden);
    if (op === 'creates') {
      const inbox = mailbox.wellKnown.get('inbox')!;
      const folder = r() < 0.8 ? inbox : (folders[Math.floor(r() * folders.length)] ?? inbox);
      const from = person(r);
      this.store.createMessage(folder, {
        subject: `Activity ${Math.floor(r() * 1e6)} from ${from.name}`,
        body: { contentType: 'html', content: `<p>Generated activity for ${mailbox.address}.</p>` },
        from,
        toRecipients: [{ name: mailbox.displayName, address: mailbox.address }],
      });
      return true;
    }
    const msg = this.randomMessage(mailbox, r);
    if (!msg) return false;
    if (op === 'updates') {
      const which = r();
      if (which < 0.5) this.store.updateMessage(msg, { isRead: !msg.isRead });
      else if (which < 0.8) this.store.updateMessage(msg, { flag: msg.flag === 1 ? 0 : 1 });
      else this.store.updateMessage(msg, { subject: `${this.store.content(msg).subject} (edited)` });
      return true;
    }
    if (op === 'moves') {
      const targets = folders.filter((f: FolderRecord) => f !== msg.folder);
      const dest = targets[Math.floor(r() * targets.length)];
      if (!dest) return false;
      this.store.moveMessage(msg, dest);
      return true;
    }
    this.store.deleteMessage(msg);
    return true;
  }

  private randomMessage(mailbox: Mailbox, r: () => number): MessageRecord | undefined {
    if (mailbox.messageCount === 0) return undefined;
    for (let attempt = 0; attempt < 64; attempt++) {
      const m = mailbox.messages[Math.floor(r() * mailbox.messages.length)];
      if (m) return m;
    }
    return mailbox.messages.find((m): m is MessageRecord => m !== undefined);
  }

  reset(): void {
    for (const run of this.runs.values()) {
      run.state = 'stopped';
      if (run.timer) clearTimeout(run.timer);
      run.resolve?.();
    }
    this.runs = new Map();
  }

  onModuleDestroy(): void {
    this.reset();
  }
}
