import type { ProducerConfig } from '@email-core/config';

/**
 * Who may use the Ops API (and sees the dashboard's Ops tab): the addresses in `OPS_ADMIN_EMAILS`, compared
 * case-insensitively, or everyone signed in with `OPS_ADMIN_EMAILS=*`. Nobody by default.
 */
export function isOpsOperator(ops: ProducerConfig['ops'], email: string): boolean {
  return ops.everyone || ops.adminEmails.includes(email.trim().toLowerCase());
}
