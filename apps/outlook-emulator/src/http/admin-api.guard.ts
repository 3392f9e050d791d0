import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What the guard looks at in a request. */
export interface AdminRequest {
  method: string;
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface AdminRefusal {
  status: 403 | 415;
  error: 'admin_loopback_only' | 'admin_cross_origin' | 'admin_json_required';
  message: string;
}

const header = (req: AdminRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Why the admin API refuses this request, or undefined when it may go on. The admin API reshapes (and resets)
 * every mailbox, so:
 * - only this machine may call it (403 `admin_loopback_only`);
 * - no web page may: a request with an `Origin` other than the emulator's own (`https://` + the Host it was sent
 *   to), or that the browser marks as cross-site or same-site (`Sec-Fetch-Site`), is refused (403
 *   `admin_cross_origin`). Browsers send `Origin` on every POST/PUT/PATCH/DELETE, so a page the developer visits
 *   cannot `POST /_emulator/reset`. A DNS-rebinding page that makes Host match its own origin still fails: the
 *   emulator serves HTTPS with a certificate for its own names only. Tools (curl, tests) send no `Origin`;
 * - a write that carries a body, or names a type, must be `Content-Type: application/json` (415
 *   `admin_json_required`): the only bodies a page can send cross-site without a CORS preflight are form and
 *   text ones. A write without a body (`POST /_emulator/reset`) needs no type.
 */
export function adminRequestRefusal(req: AdminRequest): AdminRefusal | undefined {
  if (!LOOPBACK.has(req.remoteAddress ?? ''))
    return { status: 403, error: 'admin_loopback_only', message: 'The admin API answers loopback only.' };

  const origin = header(req, 'origin');
  const host = header(req, 'host');
  const fetchSite = header(req, 'sec-fetch-site')?.toLowerCase();
  const ownOrigin = host ? `https://${host}`.toLowerCase() : undefined;
  if (
    (origin !== undefined && origin.toLowerCase() !== ownOrigin) ||
    fetchSite === 'cross-site' ||
    fetchSite === 'same-site'
  )
    return {
      status: 403,
      error: 'admin_cross_origin',
      message: 'The admin API answers no web page but its own origin (send no Origin header from tools).',
    };

  if (WRITES.has(req.method.toUpperCase())) {
    const type = header(req, 'content-type');
    const length = header(req, 'content-length');
    const hasBody =
      header(req, 'transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
    const mediaType = type?.split(';', 1)[0]?.trim().toLowerCase();
    if ((hasBody || type !== undefined) && mediaType !== 'application/json')
      return {
        status: 415,
        error: 'admin_json_required',
        message: 'Admin writes take Content-Type: application/json.',
      };
  }
  return undefined;
}

/** On every `/_emulator/*` controller but health: see adminRequestRefusal. */
@Injectable()
export class AdminApiGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const refusal = adminRequestRefusal({
      method: req.method,
      remoteAddress: req.socket.remoteAddress,
      headers: req.headers,
    });
    if (refusal) throw new HttpException({ error: refusal.error, message: refusal.message }, refusal.status);
    return true;
  }
}
