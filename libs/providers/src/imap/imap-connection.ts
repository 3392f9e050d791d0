import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
} from '../port';
import { HostLookupError, HostNotAllowedError, resolveAllowedHost } from './host-guard';
import { countedImapClient, imapRequestStatus, type ImapRequestCounter } from './imap-request-metrics';
import type { HostPolicy, MailServerSettings } from './imap-settings';

/** An expunge or VANISHED the server reported on the session (imapflow's `expunge` event payload). */
export interface ImapExpunge {
  path: string;
  seq?: number;
  uid?: number;
  vanished: boolean;
  earlier?: boolean;
}

export interface ImapSessionOptions {
  /** called for every EXPUNGE / VANISHED the server sends (QRESYNC's `VANISHED (EARLIER)` included) */
  onExpunge?: (expunge: ImapExpunge) => void;
  /** an idle socket is dropped after this long (default 60 s) */
  socketTimeoutMs?: number;
  /** connecting and the greeting give up after this long (default 15 s) */
  connectTimeoutMs?: number;
  /** ENABLE QRESYNC where the server has it (default true) */
  qresync?: boolean;
  /**
   * counts the connection attempt and then each operation on the session (imap-request-metrics.ts); without it
   * nothing is counted
   */
  requests?: ImapRequestCounter;
}

const contexts = new Map<string, SecureContext>();

/**
 * The TLS context trusting the system's roots and `ca`, built once per CA list: a context with ~140 roots costs
 * about 1 MB of native memory (which V8's GC does not see) and 20 ms of CPU, so a session of its own for each
 * sync round and each IDLE connection held ~9 MB per watched account (bench:imap-watch).
 */
function secureContextWith(ca: readonly string[]): SecureContext {
  const key = ca.join('\n');
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ...ca], minVersion: 'TLSv1.2' });
    contexts.set(key, context);
  }
  return context;
}

/**
 * Opens an authenticated IMAP session for a user's server, the SSRF guard applied at connect time: the host the
 * user typed is resolved once by `resolveAllowedHost` (private and reserved addresses refused unless the policy
 * allows them) and the session connects to that address, with the typed name as TLS servername (so the
 * certificate is checked against the name, and a second DNS answer cannot swap the address).
 *
 * `security`: 'tls' → implicit TLS; 'starttls' → STARTTLS required (never a cleartext login); 'none' → cleartext,
 * only where the policy allows private hosts (the stack's own server, tests).
 *
 * Failures in the port's words: a refused login (or settings the policy refuses: only the user can fix them) →
 * `ReauthRequiredError`; DNS, network, TLS, timeouts → `ProviderUnavailableError`. A dropped socket later emits
 * `error` on the client, which is always listened to, so it never crashes the process.
 */
export async function openImapSession(
  server: MailServerSettings,
  policy: HostPolicy,
  options: ImapSessionOptions = {},
): Promise<ImapFlow> {
  if (server.security === 'none' && !policy.allowPrivateHosts) {
    throw new ReauthRequiredError('a cleartext IMAP connection is not allowed', 'INSECURE_CONNECTION');
  }
  let address: string;
  try {
    address = await resolveAllowedHost(server.host, policy);
  } catch (err) {
    // a host the policy refuses is never tried: no request; a name that does not resolve is a failed attempt
    if (err instanceof HostNotAllowedError) throw new ReauthRequiredError(err.message, err.code);
    if (err instanceof HostLookupError) {
      options.requests?.('error');
      throw new ProviderUnavailableError(0, 'HOST_LOOKUP_FAILED', err.message);
    }
    throw err;
  }
  const servername = isIP(server.host) === 0 ? server.host : undefined;
  const opts: ImapFlowOptions = {
    host: address,
    port: server.port,
    secure: server.security === 'tls',
    doSTARTTLS: server.security === 'starttls' ? true : server.security === 'none' ? false : undefined,
    servername,
    auth: { user: server.username, pass: server.password },
    tls: {
      // the policy's CAs beside the system's (a `ca` option alone would replace them), in one shared context
      ...(policy.ca?.length ? { secureContext: secureContextWith(policy.ca) } : {}),
      ...(servername ? { servername } : {}),
      minVersion: 'TLSv1.2',
    },
    logger: false,
    qresync: options.qresync ?? true,
    disableAutoIdle: true,
    connectionTimeout: options.connectTimeoutMs ?? 15_000,
    greetingTimeout: options.connectTimeoutMs ?? 15_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    ...(options.onExpunge
      ? {
          expungeHandler: (payload: ImapExpunge) => {
            options.onExpunge?.(payload);
            return Promise.resolve();
          },
        }
      : {}),
  };
  const client = new ImapFlow(opts);
  // a dropped socket emits 'error' after connect: never let it become an uncaught exception
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    options.requests?.(imapRequestStatus(err));
    throw toImapPortError(err);
  }
  if (!options.requests) return client;
  options.requests('ok');
  return countedImapClient(client, options.requests);
}

/**
 * Runs `work` on a fresh session and logs out afterwards (closing the socket when LOGOUT fails); failures are
 * translated into the port's errors.
 */
export async function withImapSession<T>(
  server: MailServerSettings,
  policy: HostPolicy,
  work: (client: ImapFlow) => Promise<T>,
  options?: ImapSessionOptions,
): Promise<T> {
  const client = await openImapSession(server, policy, options);
  try {
    return await work(client);
  } catch (err) {
    throw toImapPortError(err);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

const PORT_ERRORS = [
  CursorLostError,
  ReauthRequiredError,
  CredentialsNotFoundError,
  ProviderRefusedError,
  ProviderUnavailableError,
  WatchLifetimeRejectedError,
];

interface ImapFailure {
  code?: string;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  responseStatus?: string;
  serverResponseCode?: string;
  mailboxMissing?: boolean;
  message?: string;
}

/**
 * An imapflow (or socket) failure in the port's words; port errors pass through unchanged. A refused login →
 * `ReauthRequiredError`; a NO/BAD answer → `ProviderRefusedError` (404 for a missing mailbox); anything else
 * with a code (sockets, TLS, timeouts, a dropped connection) → `ProviderUnavailableError`.
 */
export function toImapPortError(err: unknown): Error {
  if (PORT_ERRORS.some((type) => err instanceof type)) return err as Error;
  const e = (typeof err === 'object' && err !== null ? err : {}) as ImapFailure;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED') {
    return new ReauthRequiredError('the mail server refused the login', 'AUTHENTICATIONFAILED');
  }
  if (e.mailboxMissing || e.serverResponseCode === 'NONEXISTENT') {
    return new ProviderRefusedError(404, 'NotFound', message);
  }
  if (e.tlsFailed) return new ProviderUnavailableError(0, 'TlsFailed', message);
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    return new ProviderRefusedError(400, e.serverResponseCode ?? e.responseStatus, message);
  }
  // sockets, TLS, timeouts, a dropped connection all carry a code; anything else is a bug of ours: unchanged
  if (typeof e.code === 'string') return new ProviderUnavailableError(0, e.code, message);
  return err instanceof Error ? err : new Error(message);
}
