import { checkoutHash, othersCanTraverse, serviceRoot } from './private-root';

/** A fake file system: mode of each path; missing paths throw like fs.statSync. */
function modes(m: Record<string, number>): (p: string) => { mode: number } {
  return (p) => {
    const mode = m[p];
    if (mode === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
    return { mode: 0o040000 | mode };
  };
}

describe('private-root', () => {
  const open = modes({ '/': 0o755, '/work': 0o755, '/work/main': 0o755, '/work/main/.stack': 0o755 });
  // `mktemp -d` makes 0700: a clone inside it cannot be reached by the postgres or postfix users
  const ci = modes({ '/': 0o755, '/tmp': 0o1777, '/tmp/tmp.AbC': 0o700, '/tmp/tmp.AbC/repo': 0o755 });

  it('tells whether other users can reach a directory', () => {
    expect(othersCanTraverse('/work/main/.stack', open)).toBe(true);
    expect(othersCanTraverse('/tmp/tmp.AbC/repo/.stack', ci)).toBe(false);
    // a .stack not created yet will be 0755: only its ancestors count
    expect(othersCanTraverse('/work/main/.stack/pg', open)).toBe(true);
  });

  it('keeps the files in .stack/<service> when reachable', () => {
    expect(serviceRoot({ service: 'pg', stackDir: '/work/main/.stack', stat: open })).toBe(
      '/work/main/.stack/pg',
    );
  });

  it('moves them to /var/tmp/email-core-<service>-<checkout hash> under a private checkout', () => {
    const root = serviceRoot({
      service: 'pg',
      stackDir: '/tmp/tmp.AbC/repo/.stack',
      checkoutRoot: '/tmp/tmp.AbC/repo',
      sharedTmp: '/var/tmp',
      stat: ci,
    });
    expect(root).toBe(`/var/tmp/email-core-pg-${checkoutHash('/tmp/tmp.AbC/repo')}`);
    expect(root).toMatch(/^\/var\/tmp\/email-core-pg-[0-9a-f]{8}$/);
    const mail = serviceRoot({
      service: 'mail',
      stackDir: '/tmp/tmp.AbC/repo/.stack',
      checkoutRoot: '/tmp/tmp.AbC/repo',
      sharedTmp: '/var/tmp',
      stat: ci,
    });
    expect(mail).toBe(`/var/tmp/email-core-mail-${checkoutHash('/tmp/tmp.AbC/repo')}`);
  });

  it('names each checkout differently', () => {
    expect(checkoutHash('/tmp/a/repo')).not.toBe(checkoutHash('/tmp/b/repo'));
    expect(checkoutHash('/tmp/a/repo')).toBe(checkoutHash('/tmp/a/repo'));
  });
});
