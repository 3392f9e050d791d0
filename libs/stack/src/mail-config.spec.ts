import {
  assertUsablePassword,
  MAIL_PORTS,
  mailLayout,
  renderDovecotConf,
  renderPostfixMainCf,
  renderPostfixMasterCf,
  tooLongSocketPaths,
  type MailConfigInput,
} from './mail-config';

const layout = mailLayout('/repo/.stack/mail');
const input: MailConfigInput = {
  layout,
  password: 'dev-Pass_word.123',
  certFile: '/repo/.stack/certs/mail.pem',
  keyFile: '/repo/.stack/certs/mail-key.pem',
  mailUid: 65534,
  mailGid: 65534,
  instanceName: 'email-core-test',
};

/** `key = value` lines of a Postfix main.cf as a map. */
function mainCf(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const r = /^([a-z_0-9]+) =(?: (.*))?$/.exec(line);
    if (r) m.set(r[1], r[2] ?? '');
  }
  return m;
}

describe('mail server configuration', () => {
  it('keeps everything of Dovecot under .stack/mail, on loopback, with the CA-issued certificate', () => {
    const conf = renderDovecotConf(input);
    expect(conf).toContain('base_dir = /repo/.stack/mail/dovecot/run\n');
    expect(conf).toContain('state_dir = /repo/.stack/mail/dovecot/state\n');
    expect(conf).toContain('log_path = /repo/.stack/mail/dovecot/dovecot.log\n');
    expect(conf).toContain('listen = 127.0.0.1\n');
    expect(conf).toContain('ssl_cert = </repo/.stack/certs/mail.pem\n');
    expect(conf).toContain('ssl_key = </repo/.stack/certs/mail-key.pem\n');
    expect(conf).toMatch(/inet_listener imap \{\s+address = 127\.0\.0\.1\s+port = 2143\s+\}/);
    expect(conf).toMatch(/inet_listener imaps \{\s+address = 127\.0\.0\.1\s+port = 2993\s+ssl = yes\s+\}/);
    expect(conf).toContain('protocols = imap lmtp\n');
    // nothing points at the machine's configuration
    expect(conf).not.toMatch(/\/etc\//);
    expect(conf).not.toMatch(/!include/);
  });

  it('lets an address whose password was changed log in with that password only, before the dev password', () => {
    const conf = renderDovecotConf(input);
    const file = '/repo/.stack/mail/dovecot/changed-passwords';
    const own = conf.indexOf(`args = scheme=PLAIN username_format=%Lu ${file}\n`);
    const deny = conf.search(
      /deny = yes\s+args = username_format=%Lu \/repo\/\.stack\/mail\/dovecot\/changed-passwords\n/,
    );
    const dev = conf.indexOf('driver = static\n  args = password=');
    expect(own).toBeGreaterThan(0);
    expect(deny).toBeGreaterThan(own);
    expect(dev).toBeGreaterThan(deny);
  });

  it('takes thousands of IMAP connections (a login process proxies many, one imap process each)', () => {
    const conf = renderDovecotConf(input);
    expect(conf).toMatch(/service imap \{\s+process_limit = 4096\s+\}/);
    // past the kernel's inotify instances per user, IDLE falls back to checking every second, not every 30 s
    expect(conf).toContain('mailbox_idle_check_interval = 1 secs\n');
    expect(conf).toMatch(
      /service imap-login \{\s+service_count = 0\s+process_min_avail = 2\s+client_limit = 4096\s/,
    );
  });

  it('lets any address log in with the one dev password and delivers to a mailbox per address as nobody', () => {
    const conf = renderDovecotConf(input);
    expect(conf).toMatch(/passdb \{\s+driver = static\s+args = password=dev-Pass_word\.123\s+\}/);
    expect(conf).toContain(
      'args = uid=65534 gid=65534 home=/repo/.stack/mail/mailboxes/%Ld/%Ln allow_all_users=yes',
    );
    expect(conf).toContain('first_valid_uid = 65534\n');
    expect(conf).toContain('mail_location = maildir:~/Maildir\n');
    expect(conf).toMatch(/unix_listener lmtp \{/);
    expect(conf).toMatch(/unix_listener auth-postfix \{/);
  });

  it('refuses a password Dovecot would mangle', () => {
    for (const bad of ['short', 'has space in it', 'percent%dvar', 'quote"s-are-bad', '']) {
      expect(() => assertUsablePassword(bad)).toThrow(/DEV_MAIL_PASSWORD/);
      expect(() => renderDovecotConf({ ...input, password: bad })).toThrow();
    }
    expect(() => assertUsablePassword('Ab3_-.~+/=xyz')).not.toThrow();
  });

  it("makes Postfix a sink for every domain, delivered to Dovecot's LMTP socket, with its own directories", () => {
    const cf = mainCf(renderPostfixMainCf(input));
    expect(cf.get('config_directory')).toBe('/repo/.stack/mail/postfix/etc');
    expect(cf.get('queue_directory')).toBe('/repo/.stack/mail/postfix/queue');
    expect(cf.get('data_directory')).toBe('/repo/.stack/mail/postfix/data');
    expect(cf.get('maillog_file')).toBe('/dev/stdout');
    expect(cf.get('inet_interfaces')).toBe('127.0.0.1');
    expect(cf.get('mydestination')).toBe('');
    expect(cf.get('alias_maps')).toBe('');
    expect(cf.get('virtual_mailbox_domains')).toBe('static:ALL');
    expect(cf.get('virtual_transport')).toBe('lmtp:unix:/repo/.stack/mail/dovecot/run/lmtp');
    expect(cf.get('smtpd_sasl_type')).toBe('dovecot');
    expect(cf.get('smtpd_sasl_path')).toBe('/repo/.stack/mail/dovecot/run/auth-postfix');
    expect(cf.get('smtpd_tls_cert_file')).toBe('/repo/.stack/certs/mail.pem');
    expect(cf.get('smtpd_tls_auth_only')).toBe('yes');
    for (const [k, v] of cf) expect(`${k}=${v}`).not.toMatch(/\/etc\/|\/var\/spool/);
  });

  it('takes a mail with a 150 MB attachment (about 205 MB in base64): message_size_limit 210 MiB', () => {
    const cf = mainCf(renderPostfixMainCf(input));
    expect(Number(cf.get('message_size_limit'))).toBe(210 * 1024 * 1024);
    expect(Number(cf.get('message_size_limit'))).toBeGreaterThan(Math.ceil((150 * 1024 * 1024) / 57) * 78);
  });

  it('runs SMTP and submission on loopback ports, nothing chrooted, AUTH only on submission after TLS', () => {
    const master = renderPostfixMasterCf(input);
    const services = master.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('#'));
    expect(services.length).toBeGreaterThan(10);
    // the fifth column (chroot) is n everywhere: a chrooted LMTP client could not reach Dovecot's socket
    for (const s of services) expect(s.split(/\s+/)[4]).toBe('n');
    expect(services[0]).toMatch(/^127\.0\.0\.1:2525\s+inet\s.*smtpd$/);
    expect(services[1]).toMatch(/^127\.0\.0\.1:2587\s+inet\s.*smtpd$/);
    const submission = master.slice(master.indexOf('127.0.0.1:2587'), master.indexOf('\npickup'));
    expect(submission).toContain('-o smtpd_tls_security_level=encrypt');
    expect(submission).toContain('-o smtpd_sasl_auth_enable=yes');
    expect(submission).toContain('-o smtpd_relay_restrictions=permit_sasl_authenticated,reject');
    expect(services.some((s) => /\slmtp$/.test(s))).toBe(true);
    expect(MAIL_PORTS).toEqual({ smtp: 2525, submission: 2587, imap: 2143, imaps: 2993 });
  });

  it('finds socket paths too long for a Unix socket', () => {
    expect(tooLongSocketPaths(layout)).toEqual([]);
    const deep = mailLayout(`/${'x'.repeat(100)}/.stack/mail`);
    expect(tooLongSocketPaths(deep).length).toBeGreaterThan(0);
  });
});

describe('systemMailSmtpEnv', () => {
  it('builds the consumer SMTP_URL for submission with the URL-encoded dev login, unless SMTP_URL is set', async () => {
    const { systemMailSmtpEnv } = await import('./mail-server');
    expect(systemMailSmtpEnv({ submission: '127.0.0.1:2587' }, 'a/b+c=', '/ca.pem', {})).toEqual({
      SMTP_URL: 'smtp://no-reply%40email-core.localhost:a%2Fb%2Bc%3D@127.0.0.1:2587',
      SMTP_CA_FILE: '/ca.pem',
    });
    expect(
      systemMailSmtpEnv({ submission: '127.0.0.1:2587' }, 'pw', '/ca.pem', {
        SMTP_URL: 'smtp://relay.example:25',
        SMTP_CA_FILE: '/mine.pem',
      }),
    ).toEqual({ SMTP_URL: 'smtp://relay.example:25', SMTP_CA_FILE: '/mine.pem' });
  });
});

describe('imapAdapterEnv', () => {
  it('lets the IMAP adapter reach the stack mail server (private hosts, the project CA), unless set already', async () => {
    const { imapAdapterEnv } = await import('./mail-server');
    expect(imapAdapterEnv('/ca.pem', {})).toEqual({
      IMAP_ALLOW_PRIVATE_HOSTS: 'true',
      IMAP_CA_FILE: '/ca.pem',
    });
    expect(
      imapAdapterEnv('/ca.pem', { IMAP_ALLOW_PRIVATE_HOSTS: 'false', IMAP_CA_FILE: '/mine.pem' }),
    ).toEqual({
      IMAP_ALLOW_PRIVATE_HOSTS: 'false',
      IMAP_CA_FILE: '/mine.pem',
    });
  });
});
