import { guidFrom } from '../store/ids';
import type { Mailbox } from '../store/model';
import { IdentityError } from './identity-errors';

/** personal Microsoft accounts all live in this tenant */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const ALIASES = new Set(['common', 'organizations', 'consumers']);

/** the `{tenant}` path segment: `common`, `organizations`, `consumers`, a tenant GUID or a verified domain */
export function assertTenant(tenant: string): void {
  if (!ALIASES.has(tenant.toLowerCase()) && !GUID.test(tenant) && !DOMAIN.test(tenant)) {
    throw new IdentityError('invalidTenant', { tenant });
  }
}

/**
 * The tenant id in the discovery document's issuer: `{tenantid}` (a template MSAL fills in) for the
 * multi-tenant aliases, as AAD answers; the MSA tenant for `consumers`; the GUID itself, or for a domain
 * the emulator's tenant id for that domain (the mailbox store derives tenant ids from the address's domain).
 */
export function issuerTenantId(tenant: string): string {
  const lower = tenant.toLowerCase();
  if (lower === 'common' || lower === 'organizations') return '{tenantid}';
  if (lower === 'consumers') return MSA_TENANT_ID;
  if (GUID.test(tenant)) return lower;
  return guidFrom(`tenant:${lower}`);
}

/** whether a mailbox may sign in through this tenant segment */
export function tenantAdmits(tenant: string, mailbox: Mailbox): boolean {
  const lower = tenant.toLowerCase();
  if (ALIASES.has(lower)) return true;
  if (GUID.test(tenant)) return mailbox.tenantId.toLowerCase() === lower;
  return mailbox.address.split('@')[1] === lower;
}
