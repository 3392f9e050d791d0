import { isOpsOperator } from './ops-access';

describe('isOpsOperator', () => {
  const user = { email: 'ops@example.com', role: 'user' as const, emailVerifiedAt: null };
  const verified = { ...user, emailVerifiedAt: new Date('2026-01-01T00:00:00Z') };

  it('nobody by default', () => {
    expect(isOpsOperator({ adminEmails: [], wildcardIgnored: false }, user)).toBe(false);
    expect(isOpsOperator({ adminEmails: [], wildcardIgnored: false }, verified)).toBe(false);
  });

  it('nobody through an ignored *', () => {
    expect(isOpsOperator({ adminEmails: [], wildcardIgnored: true }, verified)).toBe(false);
  });

  it('a user granted the operator role, whatever OPS_ADMIN_EMAILS says', () => {
    expect(isOpsOperator({ adminEmails: [], wildcardIgnored: false }, { ...user, role: 'operator' })).toBe(
      true,
    );
  });

  it('never an unverified address, even when OPS_ADMIN_EMAILS lists it', () => {
    expect(isOpsOperator({ adminEmails: ['ops@example.com'], wildcardIgnored: false }, user)).toBe(false);
  });

  it('a verified address listed in OPS_ADMIN_EMAILS, whatever its case', () => {
    const ops = { adminEmails: ['ops@example.com'], wildcardIgnored: false };
    expect(isOpsOperator(ops, { ...verified, email: 'Ops@Example.COM' })).toBe(true);
    expect(isOpsOperator(ops, { ...verified, email: 'other@example.com' })).toBe(false);
    // a prefix or suffix of a listed address is another address
    expect(isOpsOperator(ops, { ...verified, email: 'xops@example.com' })).toBe(false);
  });
});
