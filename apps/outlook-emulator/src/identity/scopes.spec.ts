import { IdentityError } from './identity-errors';
import { firstScopeOutside, formatScope, grantedGraphScopes, parseScopes } from './scopes';

describe('scopes', () => {
  it('normalizes Graph scopes to short canonical names and keeps OIDC scopes apart', () => {
    expect(
      parseScopes(
        'offline_access https://graph.microsoft.com/mail.read  User.Read openid 00000003-0000-0000-c000-000000000000/Mail.Send MAIL.READ',
      ),
    ).toEqual({ graph: ['Mail.Read', 'User.Read', 'Mail.Send'], oidc: ['openid', 'offline_access'] });
  });

  it('expands .default to the permissions a mail app registers', () => {
    expect(parseScopes('https://graph.microsoft.com/.default').graph).toEqual([
      'User.Read',
      'Mail.ReadWrite',
      'Mail.Send',
    ]);
  });

  it('refuses unknown scopes and other resources with AADSTS70011 naming the scope', () => {
    for (const bad of ['Mail.Frobnicate', 'https://outlook.office.com/Mail.Read', 'api://x/y', 'address']) {
      let err: unknown;
      try {
        parseScopes(`openid ${bad}`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IdentityError);
      expect((err as IdentityError).entry.code).toBe(70011);
      expect((err as IdentityError).message).toContain(`'${bad}'`);
    }
  });

  it('grants User.Read when only OIDC scopes are asked, and formats the response scope', () => {
    const set = parseScopes('openid profile');
    expect(grantedGraphScopes(set)).toEqual(['User.Read']);
    expect(formatScope(['Mail.Read'], ['openid', 'profile', 'email', 'offline_access'])).toBe(
      'Mail.Read openid profile email offline_access',
    );
  });

  it('finds a scope outside a grant, case-insensitively', () => {
    expect(firstScopeOutside(['mail.read'], ['Mail.Read', 'User.Read'])).toBeUndefined();
    expect(firstScopeOutside(['User.Read', 'Mail.Send'], ['Mail.Read', 'User.Read'])).toBe('Mail.Send');
  });
});
