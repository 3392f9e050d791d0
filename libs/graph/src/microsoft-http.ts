import fs from 'node:fs';
import tls from 'node:tls';
import {
  ClientAuthError,
  ClientAuthErrorCodes,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from './graph-middleware';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of the file NODE_EXTRA_CA_CERTS names (Node adds them to its default store, not to `ca`). */
function processExtraCas(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return fs.readFileSync(file, 'utf8').match(PEM_CERTIFICATE) ?? [];
  } catch {
    return []; // Node itself only warns about a missing file
  }
}

/**
 * The fetch every request to Microsoft (the identity platform and Graph, or the emulator) goes through. Without
 * `extraCaPem` it is the global fetch. With it (`MS_CA_FILE`, the emulator's local CA under `npm start`), it is
 * undici's fetch over an agent of its own whose TLS trusts the usual roots (Node's bundled ones and
 * NODE_EXTRA_CA_CERTS) plus those certificates: only these requests trust them, never the rest of the process.
 * Verification stays on (host names included).
 */
export function microsoftFetch(
  extraCaPem: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): FetchLike {
  if (!extraCaPem) return (input, init) => fetch(input, init);
  // One secure context for every connection: given as `ca`, Node parses the ~150 roots again for each new TLS
  // connection, 0.3 to 0.5 s of blocked event loop each (issue 16's fuzz test measured a 1.3 s stall)
  const secureContext = tls.createSecureContext({
    ca: [...tls.rootCertificates, ...processExtraCas(env), extraCaPem],
  });
  const agent = new Agent({ connect: { secureContext } });
  return async (input, init) => {
    // undici's own fetch (the global one is Node's bundled undici, which takes no agent of this version);
    // its Request and Response are the same WHATWG shapes under other type names
    const res = await undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    });
    return res;
  };
}

/**
 * msal-node's network client over {@link microsoftFetch}: the same requests its own HttpClient makes (GET and POST,
 * JSON answers), so the token endpoint trusts what Graph does. Failures come out as msal's `network_error` and
 * `token_parsing_error`, as its own client's do.
 */
export class MicrosoftNetworkClient implements INetworkModule {
  constructor(private readonly fetchImpl: FetchLike) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(
    url: string,
    method: 'GET' | 'POST',
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
      });
    } catch (err) {
      const why = err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'failed';
      throw new ClientAuthError(ClientAuthErrorCodes.networkError, `Network request ${why}`);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      headers[key] = value;
    });
    let body: T;
    try {
      body = (await res.json()) as T;
    } catch {
      throw new ClientAuthError(ClientAuthErrorCodes.tokenParsingError, 'Failed to parse response');
    }
    return { headers, body, status: res.status };
  }
}
