import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IdentityError } from './identity-errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** answers an IdentityError from the JSON endpoints (/token, /devicecode, discovery) with AAD's error body */
@Catch(IdentityError)
export class IdentityErrorFilter implements ExceptionFilter {
  catch(error: IdentityError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    // AAD's correlation id is the client's client-request-id when it sends one (MSAL does)
    const requestId = req.headers['client-request-id'];
    const correlationId = typeof requestId === 'string' && GUID.test(requestId) ? requestId : undefined;
    res
      .status(error.status >= 400 ? error.status : 400)
      .set({ 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' })
      .json(error.body(new Date(), correlationId));
  }
}
