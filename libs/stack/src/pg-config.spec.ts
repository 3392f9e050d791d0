import {
  formatBytes,
  formatReplayLag,
  PG_HBA,
  pgLayout,
  pgUrl,
  pickPgBinDir,
  renderPgConf,
  socketPathTooLong,
} from './pg-config';

/** `key = value` lines as a map. */
function conf(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const r = /^([a-z_]+) = (.*)$/.exec(line);
    if (r) m.set(r[1], r[2]);
  }
  return m;
}

describe('pg-config', () => {
  const layout = pgLayout('/repo/.stack/pg');

  it('lays the pair out under one root', () => {
    expect(layout).toEqual({
      root: '/repo/.stack/pg',
      primaryDir: '/repo/.stack/pg/primary',
      replicaDir: '/repo/.stack/pg/replica',
      logDir: '/repo/.stack/pg/logs',
      primaryLog: '/repo/.stack/pg/logs/primary.log',
      replicaLog: '/repo/.stack/pg/logs/replica.log',
      socketDir: '/repo/.stack/pg/run',
    });
  });

  it('trusts loopback for every database and for replication, and nothing else', () => {
    const rules = PG_HBA.split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/).join(' '));
    expect(rules).toEqual([
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      'host replication all 127.0.0.1/32 trust',
    ]);
  });

  it('renders the primary and the replica settings', () => {
    const primary = conf(renderPgConf({ port: 5433, socketDir: layout.socketDir, role: 'primary' }));
    expect(Object.fromEntries(primary)).toMatchObject({
      listen_addresses: "'127.0.0.1'",
      port: '5433',
      unix_socket_directories: "'/repo/.stack/pg/run'",
      max_connections: '200',
      shared_buffers: "'128MB'",
      wal_level: 'replica',
      max_wal_senders: '10',
      max_replication_slots: '10',
      hot_standby: 'on',
      hot_standby_feedback: 'on',
      default_text_search_config: "'pg_catalog.english'",
      timezone: "'UTC'",
    });
    const replica = conf(renderPgConf({ port: 5434, socketDir: layout.socketDir, role: 'replica' }));
    expect(replica.get('port')).toBe('5434');
    expect(replica.get('cluster_name')).toBe("'email_core_replica'");
    expect(primary.get('cluster_name')).not.toBe(replica.get('cluster_name'));
  });

  it('quotes single quotes in paths', () => {
    const text = renderPgConf({ port: 5433, socketDir: "/it's/run", role: 'primary' });
    expect(conf(text).get('unix_socket_directories')).toBe("'/it''s/run'");
  });

  it('picks the highest version with every binary', () => {
    const present = new Set(
      ['13', '15'].flatMap((v) =>
        ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].map((b) => `/usr/lib/postgresql/${v}/bin/${b}`),
      ),
    );
    present.add('/usr/lib/postgresql/16/bin/psql'); // client only: not usable
    const has = (f: string): boolean => present.has(f);
    expect(pickPgBinDir('/usr/lib/postgresql', ['13', '16', '15', 'README'], has)).toBe(
      '/usr/lib/postgresql/15/bin',
    );
    expect(pickPgBinDir('/usr/lib/postgresql', ['16'], has)).toBeUndefined();
    expect(pickPgBinDir('/usr/lib/postgresql', [], has)).toBeUndefined();
  });

  it('formats the replay lag', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatReplayLag({ bytes: 0, seconds: 0 })).toBe('in recovery, replay lag 0 B / 0.0 s');
    expect(formatReplayLag({ bytes: 16_384, seconds: 1.234 })).toBe(
      'in recovery, replay lag 16.0 kB / 1.2 s',
    );
    expect(formatReplayLag({ bytes: -5, seconds: -0.1 })).toBe('in recovery, replay lag 0 B / 0.0 s');
  });

  it('builds URLs and checks socket path lengths', () => {
    expect(pgUrl(5434)).toBe('postgres://postgres@127.0.0.1:5434/email_core');
    expect(pgUrl(5433, 'postgres')).toBe('postgres://postgres@127.0.0.1:5433/postgres');
    expect(socketPathTooLong('/repo/.stack/pg/run', 5433)).toBe(false);
    expect(socketPathTooLong(`/${'x'.repeat(100)}`, 5433)).toBe(true);
  });
});
