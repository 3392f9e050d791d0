import { codeChallengeFor, parseChallengeMethod, verifyPkce } from './pkce';

describe('PKCE (RFC 7636)', () => {
  // RFC 7636 Appendix B
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('derives the S256 challenge of the RFC example', () => {
    expect(codeChallengeFor(verifier, 'S256')).toBe(challenge);
  });

  it('accepts the matching verifier and refuses any other, for S256', () => {
    expect(verifyPkce(challenge, 'S256', verifier)).toBe(true);
    expect(verifyPkce(challenge, 'S256', `${verifier.slice(0, -1)}Y`)).toBe(false);
    // the challenge itself is not a verifier
    expect(verifyPkce(challenge, 'S256', challenge)).toBe(false);
  });

  it('compares plain challenges verbatim', () => {
    expect(verifyPkce(verifier, 'plain', verifier)).toBe(true);
    expect(verifyPkce(verifier, 'plain', verifier.toUpperCase())).toBe(false);
    // an S256 challenge presented as plain does not verify with the verifier
    expect(verifyPkce(challenge, 'plain', verifier)).toBe(false);
  });

  it('refuses verifiers outside the RFC alphabet or length', () => {
    const short = 'a'.repeat(42);
    expect(verifyPkce(short, 'plain', short)).toBe(false);
    const long = 'a'.repeat(129);
    expect(verifyPkce(long, 'plain', long)).toBe(false);
    const bad = `${'a'.repeat(43)}+`;
    expect(verifyPkce(bad, 'plain', bad)).toBe(false);
    const edge = `${'a'.repeat(124)}-._~`;
    expect(verifyPkce(edge, 'plain', edge)).toBe(true);
  });

  it('defaults the method to plain and refuses unknown methods', () => {
    expect(parseChallengeMethod(undefined)).toBe('plain');
    expect(parseChallengeMethod('')).toBe('plain');
    expect(parseChallengeMethod('S256')).toBe('S256');
    expect(parseChallengeMethod('s256')).toBeUndefined();
    expect(parseChallengeMethod('S512')).toBeUndefined();
  });
});
