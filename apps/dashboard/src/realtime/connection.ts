import type { QueryClient } from '@tanstack/react-query';
import { io, type Socket } from 'socket.io-client';
import { api, getAccessToken, unwrap, type Schemas } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { emit } from './emitter';
import {
  REALTIME_PATH,
  RealtimeEvents,
  type AccountStatusEvent,
  type MailChangedEvent,
  type SyncCompletedEvent,
  type SyncProgressEvent,
} from './events';
import { NewMailDetector } from './new-mail';
import { syncProgressStore } from './sync-progress';

export type NewMailHandler = (accountId: string, messages: Schemas['MessageSummaryDto'][]) => void;

const RETRY_MIN_MS = 2_000;
/** how long the first event of a batch waits for others (see `queueMail`) */
const MAIL_BATCH_MS = 150;
const RETRY_MAX_MS = 60_000;

/**
 * The signed-in tab's socket: connects with the current access token, turns every event into cache invalidations
 * (see docs/realtime.md, "How a dashboard stays current"), feeds the raw events to `useRealtimeEvent` subscribers,
 * and catches up after every reconnect.
 */
export class RealtimeConnection {
  private readonly socket: Socket;
  /** the highest `mail.changed` seq seen per account: where a catch-up starts */
  private readonly lastSeq = new Map<string, number>();
  private readonly newMail = new NewMailDetector();
  private handshakeToken: string | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelay = RETRY_MIN_MS;
  private stopped = false;
  private pending = new Map<string, Map<string, 'upserted' | 'removed'>>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing = false;

  constructor(
    private readonly queryClient: QueryClient,
    private readonly onNewMail: NewMailHandler,
  ) {
    this.socket = io(window.location.origin, {
      path: REALTIME_PATH,
      // WebSocket first: a refused handshake then arrives as a socket.io packet, not as an HTTP error in the console
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      autoConnect: false,
      // read at every (re)connect, so a reconnect carries the newest token
      auth: (cb) => {
        this.handshakeToken = getAccessToken();
        cb({ token: this.handshakeToken ?? '' });
      },
    });
    this.socket.on('connect', () => {
      this.retryDelay = RETRY_MIN_MS;
      // The first connect catches up too: what the page loaded before its socket joined the user's room may already
      // be stale (a sync that finished in between sent its account.status to no one), so the page's account queries
      // are fetched once more now that no event can be missed. Later connects ask only what they missed.
      void this.catchUp();
    });
    this.socket.on('disconnect', (reason) => {
      // the server ends a socket when its token expires; socket.io does not reconnect those by itself
      if (reason === 'io server disconnect') this.retry();
    });
    this.socket.on('connect_error', () => {
      // transport failures are retried by socket.io (`active`); a refused handshake (UNAUTHENTICATED) is not: try
      // again later, by when the session will usually have refreshed its token (which also reconnects at once)
      if (!this.socket.active) this.retry();
    });
    this.socket.onAny((event: string, payload: unknown) => this.dispatch(event, payload));
  }

  start(): void {
    this.handshakeToken = getAccessToken();
    this.socket.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.socket.removeAllListeners();
    this.socket.offAny();
    this.socket.disconnect();
  }

  /** The session renewed its token: reconnect so the socket lives as long as the new one. */
  tokenChanged(token: string | null): void {
    if (!token || token === this.handshakeToken) return;
    if (this.socket.connected) this.socket.disconnect();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket.connect();
  }

  private retry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private dispatch(event: string, payload: unknown): void {
    emit(event, payload);
    if (!payload || typeof payload !== 'object') return;
    switch (event) {
      case RealtimeEvents.mailChanged:
        this.mailChanged(payload as MailChangedEvent);
        break;
      case RealtimeEvents.syncProgress: {
        const e = payload as SyncProgressEvent;
        syncProgressStore.progress(e);
        this.invalidateAccountList();
        // the first sync sends no mail.changed: the mail view fills from these refetches
        this.queueMail(e.accountId);
        break;
      }
      case RealtimeEvents.syncCompleted: {
        const e = payload as SyncCompletedEvent;
        syncProgressStore.completed(e);
        this.invalidateAccountList();
        this.queueMail(e.accountId);
        break;
      }
      case RealtimeEvents.accountStatus: {
        const e = payload as AccountStatusEvent;
        if (e.status === 'syncing') syncProgressStore.restarted(e.accountId);
        this.invalidateAccountList();
        break;
      }
      default:
        break;
    }
  }

  private mailChanged(e: MailChangedEvent): void {
    this.lastSeq.set(e.accountId, Math.max(this.lastSeq.get(e.accountId) ?? 0, e.seq));
    // Each event refetches what it touched, whole: events that arrive out of seq order or twice change nothing.
    this.queueMail(e.accountId, e.changes);
    void this.newMail
      .detect(e)
      .then((messages) => {
        if (messages.length && !this.stopped) this.onNewMail(e.accountId, messages);
      })
      .catch(() => undefined); // advisory: the list has refreshed anyway
  }

  private invalidateAccountList(): void {
    void this.queryClient.invalidateQueries({ queryKey: queryKeys.accounts(), exact: true });
  }

  /**
   * Refetches of an account's folders, lists and changed messages are batched: events that arrive while a batch
   * waits (MAIL_BATCH_MS) or while its refetches run join the next one. A burst of events then costs one refetch of
   * a long, deeply scrolled list instead of restarting it for each event, and no change is lost: each batch starts
   * after the previous one finished.
   */
  private queueMail(accountId: string, changes: readonly { kind: string; messageId: string }[] = []): void {
    let batch = this.pending.get(accountId);
    if (!batch) {
      batch = new Map();
      this.pending.set(accountId, batch);
    }
    for (const c of changes) {
      // an upsert after a removal (a move) refetches; a removal after an upsert (deleted) must not
      batch.set(c.messageId, c.kind === 'removed' ? 'removed' : 'upserted');
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing || this.stopped) return;
    this.flushTimer = setTimeout(() => void this.flush(), MAIL_BATCH_MS);
  }

  private async flush(): Promise<void> {
    this.flushTimer = null;
    const batches = this.pending;
    this.pending = new Map();
    this.flushing = true;
    try {
      await Promise.all(
        [...batches].flatMap(([accountId, messages]) => [
          this.queryClient.invalidateQueries({ queryKey: queryKeys.folders(accountId) }),
          this.queryClient.invalidateQueries({ queryKey: queryKeys.allMessages(accountId) }),
          ...[...messages].map(([messageId, kind]) =>
            this.queryClient.invalidateQueries({
              queryKey: queryKeys.message(accountId, messageId),
              // a removed message would answer 404: mark it stale, never refetch it
              refetchType: kind === 'removed' ? 'none' : 'active',
            }),
          ),
        ]),
      );
    } finally {
      this.flushing = false;
      if (this.pending.size) this.scheduleFlush();
    }
  }

  /**
   * After every connect (the first included): an account whose seq we know asks `GET /accounts/:id/changes?since=`
   * what it missed and refetches only if something did change; every other account (and the account list) is simply
   * refetched.
   */
  private async catchUp(): Promise<void> {
    const caughtUp = new Set<string>();
    await Promise.all(
      [...this.lastSeq].map(async ([accountId, since]) => {
        try {
          const missed = await this.changesSince(accountId, since);
          if (missed.length) {
            this.queueMail(accountId, missed);
          }
          caughtUp.add(accountId);
        } catch {
          // 410 CHANGES_EXPIRED, an unlinked account, a network failure: reload it instead
          this.lastSeq.delete(accountId);
        }
      }),
    );
    if (this.stopped) return;
    await this.queryClient.invalidateQueries({
      predicate: ({ queryKey }) =>
        queryKey[0] === 'accounts' && !(typeof queryKey[1] === 'string' && caughtUp.has(queryKey[1])),
    });
  }

  private async changesSince(accountId: string, since: number): Promise<Schemas['ChangeDto'][]> {
    const all: Schemas['ChangeDto'][] = [];
    let from = since;
    for (;;) {
      const page = await unwrap(
        api.GET('/api/v1/accounts/{id}/changes', {
          params: { path: { id: accountId }, query: { since: from, limit: 1000 } },
        }),
      );
      all.push(...page.items);
      const last = page.items.at(-1)?.seq;
      if (last !== undefined) from = last;
      if (!page.hasMore || last === undefined) break;
    }
    if (from > since) this.lastSeq.set(accountId, Math.max(this.lastSeq.get(accountId) ?? 0, from));
    return all;
  }
}
