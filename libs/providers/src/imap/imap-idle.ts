import type { ExistsEvent, ExpungeEvent, FlagsEvent, ImapFlow, ListResponse, StatusObject } from 'imapflow';
import { ProviderUnavailableError } from '../port';
import {
  openImapSession,
  toImapPortError,
  withImapSession,
  type ImapSessionOptions,
} from './imap-connection';
import type { ImapRequestCounter } from './imap-request-metrics';
import type { HostPolicy, MailServerSettings } from './imap-settings';

/**
 * IMAP's live changes: an IDLE connection on INBOX (EXISTS, EXPUNGE and FETCH flags as they happen). Its other
 * folders: where the server has NOTIFY (RFC 5465), the same connection asks for their events and the server sends
 * an unsolicited `* STATUS <folder>` for each change as it happens; otherwise a cheap periodic STATUS of them (one
 * LIST-STATUS round trip on the same connection). An account beyond the connection budget gets only the STATUS of
 * every folder on a short session. What it reports is folder-level ("INBOX got a message", "Archive changed"): the
 * mirror core reads the folder's changes from its cursor, so a lost, duplicated or merged report is harmless.
 */

/** What changed in a folder, as a watcher can tell. */
export type ImapChangeKind = 'created' | 'updated' | 'deleted';

export type ImapWatchChange =
  | { kind: ImapChangeKind; folder: string }
  /** the folder set changed (one appeared, one vanished) or what changed is unknown: every folder */
  | { kind: 'everyFolder' };

/** A folder's STATUS condensed to one comparable string, keyed by the folder's path. */
export type FolderStatuses = Map<string, string>;

/** The STATUS items a poll asks (LIST-STATUS where the server has it; imapflow falls back to STATUS per folder). */
const STATUS_QUERY = {
  messages: true,
  uidNext: true,
  uidValidity: true,
  unseen: true,
  highestModseq: true,
} as const;

const isInbox = (path: string) => path.toUpperCase() === 'INBOX';

/** the parts of a STATUS that change when the folder's messages or their flags do */
export function statusFingerprint(status: Partial<StatusObject> | undefined): string {
  if (!status) return '';
  return [
    status.uidValidity ?? '',
    status.messages ?? '',
    status.uidNext ?? '',
    status.highestModseq ?? '',
    status.unseen ?? '',
  ]
    .map(String)
    .join('/');
}

/** The selectable folders of a LIST answer (with STATUS), but those in `exclude`, as fingerprints. */
export function folderStatuses(
  listed: ReadonlyArray<Pick<ListResponse, 'path' | 'flags' | 'status'>>,
  exclude: (path: string) => boolean = () => false,
): FolderStatuses {
  const out: FolderStatuses = new Map();
  for (const f of listed) {
    if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent') || exclude(f.path)) continue;
    out.set(f.path, statusFingerprint(f.status));
  }
  return out;
}

/**
 * What changed between two polls: the folders whose STATUS differs, or `everyFolder` when a folder appeared or
 * vanished (the mirror refreshes its folder tree on a round over every folder).
 */
export function diffFolderStatuses(prev: FolderStatuses, next: FolderStatuses): ImapWatchChange[] {
  for (const path of next.keys()) if (!prev.has(path)) return [{ kind: 'everyFolder' }];
  for (const path of prev.keys()) if (!next.has(path)) return [{ kind: 'everyFolder' }];
  const changes: ImapWatchChange[] = [];
  for (const [path, fingerprint] of next) {
    if (prev.get(path) !== fingerprint) changes.push({ kind: 'updated', folder: path });
  }
  return changes;
}

/** Every selectable folder's STATUS on an open session (but those `exclude` names). */
export async function readFolderStatuses(
  client: ImapFlow,
  exclude?: (path: string) => boolean,
): Promise<FolderStatuses> {
  const listed = await client.list({ statusQuery: STATUS_QUERY });
  return folderStatuses(listed, exclude);
}

/**
 * One poll of an account beyond the connection budget: a short session reads every folder's STATUS and logs out.
 * Failures in the port's words (a refused login → `ReauthRequiredError`).
 */
export function pollFolderStatuses(
  server: MailServerSettings,
  policy: HostPolicy,
  options?: ImapSessionOptions,
): Promise<FolderStatuses> {
  return withImapSession(server, policy, (client) => readFolderStatuses(client), options);
}

/** What a NOTIFY session reports beyond the selected mailbox. */
export interface NotifyEvents {
  /** an event in this (not selected) folder: a message new, expunged or with changed flags */
  folder: (path: string) => void;
  /** a folder was created, deleted or renamed */
  folderSet: () => void;
}

/** the parts of imapflow's connection `enableNotify` uses (not in its typings) */
interface ImapFlowInternals {
  exec?: (
    command: string,
    attributes: unknown[],
    options?: object,
  ) => Promise<{ next: () => void } | undefined>;
  untaggedHandlers?: Record<string, ((untagged: { attributes?: unknown[] }) => unknown) | null | undefined>;
}

const atom = (value: string) => ({ type: 'ATOM', value });

/**
 * `NOTIFY SET (selected (MessageNew (UID) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge
 * FlagChange MailboxName))`: the selected folder's events come as they do in IDLE (EXISTS, EXPUNGE/VANISHED,
 * FETCH), every other personal folder's as a `* STATUS <folder> (...)` (Dovecot 2.3 sends it at once, idle or
 * not; its counts need not change: a flag change sends the same STATUS again), a folder created, deleted or
 * renamed as a `* LIST`.
 */
const NOTIFY_SET = [
  atom('SET'),
  [atom('selected'), [atom('MessageNew'), [atom('UID')], atom('MessageExpunge'), atom('FlagChange')]],
  [atom('personal'), [atom('MessageNew'), atom('MessageExpunge'), atom('FlagChange'), atom('MailboxName')]],
];

/** a mailbox name as the server sends it (modified UTF-7, RFC 3501 5.1.3) decoded, as imapflow's LIST does */
export function decodeMailboxName(raw: string): string {
  const name = raw.replace(/&([A-Za-z0-9+,]*)-/g, (whole, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    return bytes.length % 2 === 0 ? bytes.swap16().toString('utf16le') : whole;
  });
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

const textOf = (node: unknown): string | undefined => {
  const value = (node as { value?: unknown } | undefined)?.value;
  return typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
};

/**
 * Turns NOTIFY on for an open session (call it before the first IDLE): true when the server took it, false when it
 * has no NOTIFY or refused the command (the caller then polls STATUS).
 *
 * imapflow 2.10.2 has no NOTIFY API, so this is the one place that uses its internals: `exec` (a raw command,
 * whose answer must be released with `next()`) and the connection's `untaggedHandlers` map (STATUS and LIST
 * responses no command asked for; a command's own handlers for them, as in `list()` and `status()`, take
 * precedence while it runs). Should an imapflow upgrade move either, this answers false and the connection falls
 * back to polling; `imap-idle.int-spec.ts` fails then (it expects NOTIFY against the stack's Dovecot).
 */
export async function enableNotify(client: ImapFlow, events: NotifyEvents): Promise<boolean> {
  if (!client.capabilities.has('NOTIFY')) return false;
  const internals = client as unknown as ImapFlowInternals;
  const handlers = internals.untaggedHandlers;
  if (typeof internals.exec !== 'function' || !handlers || typeof handlers !== 'object') return false;
  handlers.STATUS = (untagged) => {
    const path = textOf(untagged.attributes?.[0]);
    if (path) events.folder(decodeMailboxName(path));
  };
  handlers.LIST = () => events.folderSet();
  try {
    const answer = await internals.exec.call(client, 'NOTIFY', NOTIFY_SET);
    answer?.next();
    return true;
  } catch (err) {
    delete handlers.STATUS;
    delete handlers.LIST;
    // refused (NO / BAD): poll instead; a lost connection is the caller's to see
    if (!client.usable) throw err;
    return false;
  }
}

export interface ImapIdleOptions {
  server: MailServerSettings;
  policy: HostPolicy;
  /**
   * how often the other folders' STATUS is read where there is no NOTIFY (also the longest an IDLE runs before it
   * is renewed)
   */
  statusPollMs: number;
  /** false: poll the other folders' STATUS even where the server has NOTIFY (tests); default true */
  notify?: boolean;
  /** every change, as it happens (an IDLE response, a changed STATUS) */
  onChange: (change: ImapWatchChange) => void;
  /** a poll or an IDLE that failed without ending the connection (logged by the caller) */
  onWarning?: (err: Error) => void;
  /** counts the connection attempt and each operation on it (imap-request-metrics.ts) */
  requests?: ImapRequestCounter;
  /** how the session is opened (tests); default `openImapSession` */
  open?: (server: MailServerSettings, policy: HostPolicy, options: ImapSessionOptions) => Promise<ImapFlow>;
}

/** An IDLE is renewed at least this often, whatever the poll interval (servers drop IDLEs after ~30 minutes). */
const MAX_IDLE_MS = 4 * 60_000;

/**
 * One account's IDLE connection on INBOX. `start` connects (through the host guard), opens INBOX read-only, turns
 * NOTIFY on where the server has it (else reads the other folders' STATUS as the baseline of the polls), and idles; `ended` settles when the connection is gone (with the
 * reason) or `close` was called (undefined). Connecting fails in the port's words (a refused login →
 * `ReauthRequiredError`, the server out of reach → `ProviderUnavailableError`).
 */
export class ImapIdleConnection {
  /** settles once: the error that ended the connection, or undefined after `close()` */
  readonly ended: Promise<Error | undefined>;
  private resolveEnded!: (reason: Error | undefined) => void;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private statuses: FolderStatuses = new Map();
  private lastError: Error | undefined;
  private notifyOn = false;

  private constructor(
    private readonly client: ImapFlow,
    private readonly options: ImapIdleOptions,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  static async start(options: ImapIdleOptions): Promise<ImapIdleConnection> {
    const open = options.open ?? openImapSession;
    const pollMs = Math.max(1000, options.statusPollMs);
    const client = await open(options.server, options.policy, {
      // the session never goes quiet for longer than an IDLE renewal or a poll; Dovecot also says "still here"
      socketTimeoutMs: Math.min(pollMs, MAX_IDLE_MS) + 5 * 60_000,
      ...(options.requests ? { requests: options.requests } : {}),
    });
    const connection = new ImapIdleConnection(client, options);
    try {
      await connection.begin();
    } catch (err) {
      connection.closed = true;
      client.close();
      throw toImapPortError(err);
    }
    return connection;
  }

  /** true: the other folders' changes come through NOTIFY; false: through STATUS polls */
  get notifying(): boolean {
    return this.notifyOn;
  }

  /** logs out (or drops the socket when that fails) and settles `ended` with undefined */
  async close(): Promise<void> {
    if (this.closed) return this.ended.then(() => undefined);
    this.closed = true;
    clearTimeout(this.timer);
    this.resolveEnded(undefined);
    await this.polling?.catch(() => undefined);
    await this.client.logout().catch(() => this.client.close());
  }

  private async begin(): Promise<void> {
    const { client } = this;
    const report = (kind: ImapChangeKind, folder: string) => {
      if (!this.closed) this.options.onChange({ kind, folder });
    };
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('close', () => this.lost());
    client.on('exists', (e: ExistsEvent) => report(e.count >= e.prevCount ? 'created' : 'deleted', e.path));
    client.on('expunge', (e: ExpungeEvent) => report('deleted', e.path));
    client.on('flags', (e: FlagsEvent) => report('updated', e.path));
    await client.mailboxOpen('INBOX', { readOnly: true });
    if (this.options.notify !== false) {
      this.notifyOn = await enableNotify(client, {
        folder: (path) => report('updated', path),
        folderSet: () => {
          if (!this.closed) this.options.onChange({ kind: 'everyFolder' });
        },
      });
    }
    if (!this.notifyOn) this.statuses = await readFolderStatuses(client, isInbox);
    this.schedulePoll();
    this.idleLoop().catch((err: unknown) => this.lost(err));
  }

  /**
   * IDLE until a poll (or, with NOTIFY, the renewal's NOOP) breaks it (imapflow sends DONE before the command),
   * then IDLE again
   */
  private async idleLoop(): Promise<void> {
    while (!this.closed && this.client.usable) {
      const started = Date.now();
      await this.client.idle();
      if (this.polling) {
        await this.polling;
      } else if (!this.closed && Date.now() - started < 100) {
        // the server ended the IDLE at once: do not spin
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.timer = setTimeout(
      () => {
        this.polling = this.poll().finally(() => {
          this.polling = undefined;
          this.schedulePoll();
        });
      },
      this.notifyOn ? MAX_IDLE_MS : Math.min(Math.max(1000, this.options.statusPollMs), MAX_IDLE_MS),
    );
    this.timer.unref();
  }

  /**
   * The other folders' STATUS against the last one: each folder that changed is reported. With NOTIFY only a NOOP,
   * which renews the IDLE (NOTIFY's STATUS responses report the folders as they change).
   */
  private async poll(): Promise<void> {
    if (this.closed || !this.client.usable) return;
    try {
      if (this.notifyOn) {
        await this.client.noop();
        return;
      }
      const next = await readFolderStatuses(this.client, isInbox);
      const changes = diffFolderStatuses(this.statuses, next);
      this.statuses = next;
      if (!this.closed) for (const change of changes) this.options.onChange(change);
    } catch (err) {
      if (!this.closed && this.client.usable) this.options.onWarning?.(toImapPortError(err));
    }
  }

  private lost(err?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.client.close();
    const cause = err ?? this.lastError;
    this.resolveEnded(
      cause
        ? toImapPortError(cause)
        : new ProviderUnavailableError(0, 'ConnectionClosed', 'the IMAP connection was closed'),
    );
  }
}
