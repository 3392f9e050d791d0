import type { ImapFlow } from 'imapflow';
import type { ProviderMetrics } from '@email-core/metrics';

/**
 * IMAP and SMTP requests in `email_core_provider_requests_total{provider, status}`, with fixed label sets:
 *
 * - `imap`: one per connection attempt (connect, TLS, greeting and login as one) and one per operation the
 *   adapter issues on an open session through imapflow (`list`, `mailboxOpen`, `status`, `search`, `fetch`,
 *   `fetchAll`, `fetchOne`, `download`, flag changes, `messageMove`, `messageDelete`, `append`, `idle`, `noop`,
 *   ...; a FETCH's lines are not counted one by one, LOGOUT is not counted): `ok`; the server's refusal `no`/`bad`
 *   (also an operation imapflow reports refused by answering false); `auth_failed` (the login refused);
 *   `timeout`; `error` (network, TLS, DNS, a dropped connection).
 * - `smtp`: one per message sent with nodemailer: `ok`, the server's answer class `4xx`/`5xx` (a refused AUTH is
 *   a 5xx), `error` when no answer came (network, TLS, timeouts). The link check's AUTH probe is not a send.
 *
 * No label names an account, a host or a mailbox.
 */
export const IMAP_REQUEST_STATUSES = ['ok', 'no', 'bad', 'auth_failed', 'timeout', 'error'] as const;
export type ImapRequestStatus = (typeof IMAP_REQUEST_STATUSES)[number];
export const SMTP_REQUEST_STATUSES = ['ok', '4xx', '5xx', 'error'] as const;
export type SmtpRequestStatus = (typeof SMTP_REQUEST_STATUSES)[number];

export type ImapRequestCounter = (status: ImapRequestStatus) => void;
export type SmtpRequestCounter = (status: SmtpRequestStatus) => void;

/** Where the IMAP adapter reports its requests (the process's `ProviderMetrics`, when it has them). */
export interface MailRequestCounters {
  imap: ImapRequestCounter;
  smtp: SmtpRequestCounter;
}

/** The counters over the process's provider metrics; every series exists (at 0) from now on. */
export function mailRequestCounters(metrics: ProviderMetrics): MailRequestCounters {
  return {
    imap: metrics.outcomes('imap', IMAP_REQUEST_STATUSES),
    smtp: metrics.outcomes('smtp', SMTP_REQUEST_STATUSES),
  };
}

interface ImapFailureLike {
  code?: unknown;
  responseStatus?: unknown;
  serverResponseCode?: unknown;
  authenticationFailed?: unknown;
}

/** node's and imapflow's timeout codes: ETIMEDOUT, ETIMEOUT (socket), CONNECT_TIMEOUT, GREETING_TIMEOUT, ... */
const TIMEOUT_CODE = /TIMEOUT|TIMEDOUT/i;

/** The `status` label of a failed IMAP connection attempt or operation (an imapflow or socket error). */
export function imapRequestStatus(err: unknown): ImapRequestStatus {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ImapFailureLike;
  const responseCode = typeof e.serverResponseCode === 'string' ? e.serverResponseCode.toUpperCase() : '';
  if (e.authenticationFailed === true || responseCode === 'AUTHENTICATIONFAILED') return 'auth_failed';
  if (e.responseStatus === 'NO') return 'no';
  if (e.responseStatus === 'BAD') return 'bad';
  if (typeof e.code === 'string' && TIMEOUT_CODE.test(e.code)) return 'timeout';
  return 'error';
}

/** The `status` label of a failed nodemailer send: the class of the server's answer, else `error`. */
export function smtpRequestStatus(err: unknown): SmtpRequestStatus {
  const code = (typeof err === 'object' && err !== null ? err : {}) as { responseCode?: unknown };
  const status = typeof code.responseCode === 'number' ? code.responseCode : undefined;
  if (status !== undefined && status >= 400 && status < 500) return '4xx';
  if (status !== undefined && status >= 500 && status < 600) return '5xx';
  return 'error';
}

/** imapflow's operations counted once per call (the methods the adapter issues; LOGOUT and `close` are not). */
const COUNTED = new Set<PropertyKey>([
  'append',
  'download',
  'downloadMany',
  'fetchAll',
  'fetchOne',
  'getMailboxLock',
  'getQuota',
  'idle',
  'list',
  'listTree',
  'mailboxClose',
  'mailboxCreate',
  'mailboxDelete',
  'mailboxOpen',
  'mailboxRename',
  'messageCopy',
  'messageDelete',
  'messageFlagsAdd',
  'messageFlagsRemove',
  'messageFlagsSet',
  'messageMove',
  'noop',
  'search',
  'status',
]);
/** operations imapflow answers `false` when the server refused them (a tagged NO/BAD it does not throw) */
const FALSE_IS_REFUSAL = new Set<PropertyKey>([
  'append',
  'messageCopy',
  'messageDelete',
  'messageFlagsAdd',
  'messageFlagsRemove',
  'messageFlagsSet',
  'messageMove',
  'search',
  'status',
]);

/** Counts how one operation ends: resolved (`false` being a refusal where imapflow says so), or its failure. */
async function countedCall<T>(
  count: ImapRequestCounter,
  falseIsRefusal: boolean,
  call: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (err) {
    count(imapRequestStatus(err));
    throw err;
  }
  count(falseIsRefusal && (result as unknown) === false ? 'no' : 'ok');
  return result;
}

/** Counts a `fetch` (an async generator of messages) once: `ok` when it ended or was left early, else its failure. */
async function* countedFetch<T>(count: ImapRequestCounter, messages: AsyncGenerator<T>): AsyncGenerator<T> {
  let failed = false;
  try {
    yield* messages;
  } catch (err) {
    failed = true;
    count(imapRequestStatus(err));
    throw err;
  } finally {
    if (!failed) count('ok');
  }
}

/**
 * The session as the adapter uses it, each of its operations counted once. A proxy: imapflow's own calls inside
 * an operation (`fetchAll` reading `fetch`, a lock opening the mailbox) reach the real client and are not
 * counted again; properties (`mailbox`, `usable`, events) are the client's.
 */
export function countedImapClient(client: ImapFlow, count: ImapRequestCounter): ImapFlow {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const known = wrapped.get(prop);
      if (known) return known;
      const fn = value as (...args: unknown[]) => unknown;
      let wrapper: (...args: unknown[]) => unknown;
      if (prop === 'fetch') {
        wrapper = (...args) => countedFetch(count, fn.apply(target, args) as AsyncGenerator<unknown>);
      } else if (COUNTED.has(prop)) {
        const falseIsRefusal = FALSE_IS_REFUSAL.has(prop);
        wrapper = (...args) =>
          countedCall(count, falseIsRefusal, () => fn.apply(target, args) as Promise<unknown>);
      } else {
        wrapper = fn.bind(target);
      }
      wrapped.set(prop, wrapper);
      return wrapper;
    },
  });
}
