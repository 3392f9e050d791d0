import { isOpsOperator } from './ops-access';

describe('isOpsOperator', () => {
  it('nobody when no address is configured', () => {
    expect(isOpsOperator({ everyone: false, adminEmails: [] }, 'ops@example.com')).toBe(false);
  });

  it('a listed address, whatever its case', () => {
    const ops = { everyone: false, adminEmails: ['ops@example.com'] };
    expect(isOpsOperator(ops, 'Ops@Example.COM')).toBe(true);
    expect(isOpsOperator(ops, 'other@example.com')).toBe(false);
    // a prefix or suffix of a listed address is another address
    expect(isOpsOperator(ops, 'xops@example.com')).toBe(false);
  });

  it('everyone with *', () => {
    expect(isOpsOperator({ everyone: true, adminEmails: [] }, 'anyone@example.com')).toBe(true);
  });
});
