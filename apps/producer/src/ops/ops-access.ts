import type { ProducerConfig } from '@email-core/config';
import type { UserAuthority } from '@email-core/database';

/**
 * Who may use the Ops API (and sees the dashboard's Ops tab), decided from the user's row, never from the access
 * token's email claim:
 * - a user with the `operator` role, granted with `npm run ops:grant -- <email>` (the only way in today);
 * - a user whose address is VERIFIED (`emailVerifiedAt` set) and listed in `OPS_ADMIN_EMAILS` (compared
 *   case-insensitively). Sign-up verifies no address yet, so this path opens only once verification exists.
 * Nobody by default.
 */
export function isOpsOperator(
  ops: ProducerConfig['ops'],
  user: Pick<UserAuthority, 'email' | 'role' | 'emailVerifiedAt'>,
): boolean {
  if (user.role === 'operator') return true;
  return user.emailVerifiedAt !== null && ops.adminEmails.includes(user.email.trim().toLowerCase());
}
