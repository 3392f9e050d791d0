import { parseArgs } from './ops-grant';

describe('npm run ops:grant arguments', () => {
  it('grants by default, revokes with --revoke (before or after the address)', () => {
    expect(parseArgs(['ops@example.com'])).toEqual({ email: 'ops@example.com', role: 'operator' });
    expect(parseArgs(['--revoke', 'ops@example.com'])).toEqual({ email: 'ops@example.com', role: 'user' });
    expect(parseArgs(['ops@example.com', '--revoke'])).toEqual({ email: 'ops@example.com', role: 'user' });
  });

  it('refuses anything but exactly one address, and unknown options', () => {
    expect(parseArgs([])).toEqual({ problem: 'give exactly one email address' });
    expect(parseArgs(['a@example.com', 'b@example.com'])).toEqual({
      problem: 'give exactly one email address',
    });
    expect(parseArgs(['--all'])).toEqual({ problem: 'unknown option --all' });
    expect(parseArgs(['*'])).toEqual({ problem: 'not an email address: *' });
  });
});
