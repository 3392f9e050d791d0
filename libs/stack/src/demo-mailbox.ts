/**
 * The demo IMAP mailbox `npm start` fills on the stack's mail server: a few hundred realistic messages in nested
 * folders, appended through an IMAP session of its own (APPEND), so the dashboard's "Connect an IMAP account" has
 * something to sync. The content is generated from a seed (senders, subjects, threads, HTML, attachments,
 * non-ASCII headers, flags): the same seed gives the same mailbox. Only an empty mailbox is filled.
 */
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import { parseMailEndpoint } from './mail-server';

/** The demo mailbox's address (any address is a mailbox on the stack's mail server). */
export const DEMO_IMAP_ADDRESS = 'demo@email-core.localhost';

/** A folder the generator fills: its mailbox path segments, how many messages it gets and what kind of mail. */
export interface DemoFolder {
  path: readonly string[];
  messages: number;
  kind: DemoFolderKind;
  /**
   * the share (0..1) of the folder's older mail left unread (default 0: only some of the newest dozen is unread);
   * inbox, project and newsletter folders only
   */
  unreadShare?: number;
}

/** Each folder of the demo mailbox (mailbox path segments) and how many messages it gets. */
export const DEMO_FOLDERS: readonly DemoFolder[] = [
  { path: ['INBOX'], messages: 120, kind: 'inbox' },
  { path: ['INBOX', 'Projects'], messages: 36, kind: 'project' },
  { path: ['INBOX', 'Projects', '2026'], messages: 28, kind: 'project' },
  { path: ['INBOX', 'Newsletters'], messages: 24, kind: 'newsletter' },
  { path: ['Archive'], messages: 40, kind: 'archive' },
  { path: ['Archive', '2025'], messages: 22, kind: 'archive' },
  { path: ['Sent'], messages: 36, kind: 'sent' },
  { path: ['Drafts'], messages: 3, kind: 'draft' },
  { path: ['Trash'], messages: 6, kind: 'archive' },
];

/** How many messages a demo mailbox holds once filled. */
export const DEMO_MESSAGE_COUNT = DEMO_FOLDERS.reduce((n, f) => n + f.messages, 0);

export type DemoFolderKind = 'inbox' | 'project' | 'newsletter' | 'archive' | 'sent' | 'draft';

/**
 * The layout of a large mailbox for sync tests and benchmarks: `total` messages over eight folders, nested ones
 * included (INBOX/Projects/2026, Archive/2025, Lists/dev; `Lists` itself is created empty), a quarter of the
 * inbox-like mail unread. The shares are fixed; rounding goes to INBOX.
 */
export function bulkMailboxFolders(total: number): DemoFolder[] {
  const shares: ReadonlyArray<[string[], number, DemoFolderKind, number?]> = [
    [['INBOX', 'Projects'], 0.12, 'project', 0.2],
    [['INBOX', 'Projects', '2026'], 0.08, 'project', 0.2],
    [['Archive'], 0.15, 'archive'],
    [['Archive', '2025'], 0.1, 'archive'],
    [['Sent'], 0.12, 'sent'],
    [['Receipts'], 0.05, 'inbox', 0.1],
    [['Lists', 'dev'], 0.08, 'newsletter', 0.4],
  ];
  const n = Math.max(0, Math.floor(total));
  const rest: DemoFolder[] = shares.map(([path, share, kind, unreadShare]) => ({
    path,
    messages: Math.floor(n * share),
    kind,
    ...(unreadShare !== undefined ? { unreadShare } : {}),
  }));
  const inbox = n - rest.reduce((sum, f) => sum + f.messages, 0);
  return [{ path: ['INBOX'], messages: inbox, kind: 'inbox', unreadShare: 0.25 }, ...rest];
}

export interface DemoMailboxTarget {
  /** `host:port` of the server's IMAP endpoint */
  endpoint: string;
  /** `tls` for IMAPS (TLS from the first byte), `starttls` for IMAP with STARTTLS */
  security: 'tls' | 'starttls';
  /** the mailbox's address, also its login */
  address: string;
  password: string;
  /** extra CA certificates (PEM) the server's certificate may chain to */
  ca?: string[];
}

export interface DemoMailboxOptions {
  /** the content's seed (default 2026) */
  seed?: number;
  /** the newest message's date; older ones go back about a year from it (default: now) */
  now?: Date;
  /** the folders and their message counts (default: DEMO_FOLDERS, the demo mailbox) */
  folders?: readonly DemoFolder[];
}

export interface FillMailboxOptions extends DemoMailboxOptions {
  /**
   * IMAP sessions APPENDing side by side (default 8): a session has one command in flight at a time and the
   * server takes no MULTIAPPEND from our client, so parallel sessions are what makes a large fill fast
   */
  sessions?: number;
}

export interface DemoMailboxResult {
  /** false when the mailbox already held mail and nothing was added */
  filled: boolean;
  /** messages appended by this call */
  appended: number;
  /** messages in the mailbox afterwards, every folder together */
  total: number;
  /** the folders' paths as the server names them (its separator) */
  folders: string[];
}

/** One generated message, before it is composed. */
export interface DemoMessage {
  folder: readonly string[];
  mail: Mail.Options;
  flags: string[];
  date: Date;
}

/** A small deterministic generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE: ReadonlyArray<{ name: string; address: string }> = [
  { name: 'Alice Adams', address: 'alice.adams@contoso.example' },
  { name: 'Bruno Díaz', address: 'bruno.diaz@fabrikam.example' },
  { name: 'Chloé Dubois', address: 'chloe.dubois@example.fr' },
  { name: 'Dmitri Volkov', address: 'dmitri@northwind.example' },
  { name: 'Zoë Müller', address: 'zoe.mueller@beispiel.example' },
  { name: 'José Álvarez', address: 'jose.alvarez@ejemplo.example' },
  { name: '李雷', address: 'li.lei@example.cn' },
  { name: '山田 花子', address: 'hanako.yamada@example.jp' },
  { name: 'Grace Hopper', address: 'grace@navy.example' },
  { name: 'Håkon Øvergård', address: 'hakon@eksempel.example' },
  { name: 'Priya Natarajan', address: 'priya.n@adatum.example' },
  { name: 'Ola Nordmann', address: 'ola@example.no' },
  { name: 'Søren Kierkegaard', address: 'soren.k@example.dk' },
  { name: 'Ngozi Okonjo', address: 'ngozi@tailspin.example' },
];

const NEWSLETTERS: ReadonlyArray<{ name: string; address: string; title: string }> = [
  { name: 'The Weekly Diff', address: 'news@weeklydiff.example', title: 'The Weekly Diff' },
  { name: 'Café Gazette ☕', address: 'hello@cafe-gazette.example', title: 'Café Gazette' },
  { name: 'Postgres Digest', address: 'digest@pgdigest.example', title: 'Postgres Digest' },
];

const TOPICS = [
  'Quarterly planning',
  'Budget review for Q3',
  'Release 2.4 checklist',
  'Kafka consumer lag alerts',
  'Team offsite — venue options',
  'Design review: new onboarding flow',
  'Invoice #4821',
  'Customer feedback summary',
  'Résumé for the backend role',
  'Déjeuner vendredi ?',
  'Übergabe der Dokumentation',
  'Zugangsdaten für das Testsystem',
  '会议纪要',
  'Hiring plan 2026',
  'Incident report: mail delays',
  'Roadmap draft',
  'Security review findings',
  'Holiday schedule',
  'Migration to Postgres 17',
  'Lunch & learn: IMAP internals',
  'Expense report ✅',
  'Contract renewal',
  'Accessibility audit results',
  'Sprint 42 retro',
];

const PROJECTS = ['Atlas', 'Borealis', 'Cobalt', 'Driftwood'];

const SENTENCES = [
  'Thanks for pulling this together so quickly.',
  'I have attached the latest numbers; the totals changed slightly since Monday.',
  'Could you take a look before Thursday?',
  'We agreed to revisit this after the release.',
  'The staging environment is ready for testing.',
  'Let me know if the proposed time works for you.',
  'I left a few comments inline.',
  'The vendor confirmed the delivery date.',
  'Nothing urgent, but worth a read when you have a minute.',
  'Merci beaucoup pour votre aide !',
  'Viele Grüße aus Berlin.',
  'The numbers look good overall, with one exception in the EMEA region.',
  'I moved the meeting to next week to give everyone more time.',
  'Please find the summary below.',
  'Happy to discuss on a call if that is easier.',
];

/** a 1×1 PNG */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/**
 * The demo mailbox's messages, oldest first per folder, deterministic for a seed and `now`. Exported for the
 * filler's unit spec.
 */
export function demoMessages(address: string, opts: DemoMailboxOptions = {}): DemoMessage[] {
  const rand = seeded(opts.seed ?? 2026);
  const now = (opts.now ?? new Date()).getTime();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const me = { name: 'Demo User', address };
  const domain = address.slice(address.indexOf('@') + 1) || 'email-core.localhost';
  const out: DemoMessage[] = [];
  let serial = 0;

  for (const folder of opts.folders ?? DEMO_FOLDERS) {
    // each folder's mail spans the last year (archives: the year before that), oldest first
    const span = folder.kind === 'archive' ? 365 : folder.kind === 'inbox' ? 120 : 300;
    const offset = folder.kind === 'archive' ? 200 : 0;
    const times = Array.from(
      { length: folder.messages },
      () => now - (offset + rand() * span) * 86_400_000 - Math.floor(rand() * 3_600_000),
    ).sort((a, b) => a - b);
    // the newest inbox message is from a few minutes ago
    if (folder.kind === 'inbox' && times.length > 0) times[times.length - 1] = now - 5 * 60_000;

    /** threads in this folder: the subjects so far and their Message-IDs */
    const threads: Array<{ subject: string; ids: string[]; with: { name: string; address: string } }> = [];
    times.forEach((time, i) => {
      serial += 1;
      const messageId = `<demo-${opts.seed ?? 2026}-${serial}@${domain}>`;
      const date = new Date(time);
      const newest = i >= times.length - 12;
      const flags: string[] = [];
      let mail: Mail.Options;

      if (folder.kind === 'newsletter') {
        const n = pick(NEWSLETTERS);
        const issue = 100 + i;
        mail = {
          from: { name: n.name, address: n.address },
          to: me,
          subject: `${n.title} #${issue}: ${pick(TOPICS).toLowerCase()}`,
          text: `${n.title}, issue ${issue}.\n\n${pick(SENTENCES)}\n${pick(SENTENCES)}\n\nUnsubscribe: https://${n.address.split('@')[1]}/unsubscribe`,
          html:
            `<!doctype html><html><body style="font-family:sans-serif;background:#f6f6f6">` +
            `<table role="presentation" width="100%" style="max-width:600px;margin:auto;background:#fff">` +
            `<tr><td style="padding:16px"><h1 style="color:#2b5797">${escapeHtml(n.title)} #${issue}</h1>` +
            `<p>${escapeHtml(pick(SENTENCES))}</p><p>${escapeHtml(pick(SENTENCES))}</p>` +
            `<p><a href="https://${n.address.split('@')[1]}/issues/${issue}">Read online</a></p>` +
            `</td></tr></table></body></html>`,
          headers: { 'List-Unsubscribe': `<https://${n.address.split('@')[1]}/unsubscribe>` },
        };
        const keptUnread = !newest && !!folder.unreadShare && rand() < folder.unreadShare;
        if ((!newest && !keptUnread) || (newest && rand() < 0.5)) flags.push('\\Seen');
      } else {
        const sent = folder.kind === 'sent' || folder.kind === 'draft';
        // a third of the messages answer an earlier one of the same folder: a thread
        const thread = threads.length > 0 && rand() < 0.35 ? pick(threads) : undefined;
        const other = thread?.with ?? pick(PEOPLE);
        const project = folder.kind === 'project' ? pick(PROJECTS) : undefined;
        const topic = thread?.subject ?? (project ? `[${project}] ${pick(TOPICS)}` : pick(TOPICS));
        const subject = thread ? `Re: ${topic}` : topic;
        const body = [
          `Hi ${sent ? other.name.split(' ')[0] : 'there'},`,
          '',
          pick(SENTENCES),
          pick(SENTENCES),
          rand() < 0.5 ? pick(SENTENCES) : '',
          '',
          sent ? 'Best,\nDemo' : `Best,\n${other.name}`,
        ].join('\n');
        const cc = rand() < 0.2 ? [pick(PEOPLE)].filter((p) => p.address !== other.address) : [];
        mail = {
          from: sent ? me : other,
          to: sent ? other : me,
          ...(cc.length ? { cc } : {}),
          subject,
          text: body,
          ...(thread ? { inReplyTo: thread.ids[thread.ids.length - 1], references: [...thread.ids] } : {}),
        };
        // every fourth message also has an HTML part
        if (serial % 4 === 0) {
          mail.html =
            `<p>${escapeHtml(body).replace(/\n\n/g, '</p><p>').replace(/\n/g, '<br>')}</p>` +
            `<p style="color:#666;font-size:12px">Sent from the <strong>Email Core</strong> demo</p>`;
        }
        // a few small attachments
        if (serial % 13 === 0) {
          mail.attachments = [
            {
              filename: `figures-${serial}.csv`,
              contentType: 'text/csv',
              content: `region,amount\nEMEA,${1000 + serial}\nAPAC,${2000 + serial}\n`,
            },
          ];
        } else if (serial % 29 === 0) {
          mail.attachments = [{ filename: 'pixel.png', contentType: 'image/png', content: PNG_1X1 }];
        } else if (serial % 41 === 0) {
          mail.attachments = [
            { filename: 'Übersicht – Notizen.txt', contentType: 'text/plain', content: 'Grüße & Notizen\n' },
          ];
        }
        // (no draw when the folder keeps no older mail unread: the demo mailbox stays what it was for a seed)
        const keptUnread = !newest && !!folder.unreadShare && rand() < folder.unreadShare;
        if (folder.kind === 'draft') flags.push('\\Draft', '\\Seen');
        else if (sent || folder.kind === 'archive') flags.push('\\Seen');
        else if ((!newest && !keptUnread) || (newest && rand() < 0.3)) flags.push('\\Seen');
        if (folder.kind !== 'draft' && rand() < 0.08) flags.push('\\Flagged');
        if (!sent && thread && rand() < 0.5) flags.push('\\Answered');
        if (thread) thread.ids.push(messageId);
        else threads.push({ subject: topic, ids: [messageId], with: other });
      }
      out.push({ folder: folder.path, mail: { ...mail, messageId, date }, flags, date });
    });
  }
  return out;
}

async function compose(mail: Mail.Options): Promise<Buffer> {
  const node = new MailComposer(mail).compile();
  return new Promise<Buffer>((resolve, reject) =>
    node.build((err, message) => (err ? reject(err) : resolve(message))),
  );
}

function client(target: DemoMailboxTarget): ImapFlow {
  const { host, port } = parseMailEndpoint(target.endpoint);
  const c = new ImapFlow({
    host,
    port,
    secure: target.security === 'tls',
    ...(target.security === 'starttls' ? { doSTARTTLS: true } : {}),
    auth: { user: target.address, pass: target.password },
    tls: target.ca ? { ca: target.ca } : {},
    logger: false,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
  c.on('error', () => undefined);
  return c;
}

/** Messages in every selectable folder of the session's mailbox, and the folders' paths. */
async function countAll(c: ImapFlow): Promise<{ total: number; folders: string[] }> {
  const boxes = await c.list({ statusQuery: { messages: true } });
  const selectable = boxes.filter((b) => !b.flags.has('\\Noselect') && !b.flags.has('\\NonExistent'));
  return {
    total: selectable.reduce((n, b) => n + (b.status?.messages ?? 0), 0),
    folders: selectable.map((b) => b.path).sort(),
  };
}

/**
 * Fills the mailbox with the demo content when it holds no mail in any folder; otherwise adds nothing. Creates the
 * folders it needs (the server's separator) and APPENDs each message with its flags and date.
 */
export function fillDemoMailbox(
  target: DemoMailboxTarget,
  opts: DemoMailboxOptions = {},
): Promise<DemoMailboxResult> {
  return fillMailbox(target, opts);
}

/**
 * Fills an empty mailbox with generated mail (`opts.folders`, default the demo mailbox's) through IMAP sessions of
 * its own: creates the folders (parents first, the server's separator), then APPENDs every message with its flags
 * and date over `opts.sessions` sessions side by side, each composing its next message while the others wait on the
 * server. A mailbox that already holds mail gets nothing.
 */
export async function fillMailbox(
  target: DemoMailboxTarget,
  opts: FillMailboxOptions = {},
): Promise<DemoMailboxResult> {
  const folders = opts.folders ?? DEMO_FOLDERS;
  const c = client(target);
  await c.connect();
  let pathOf: (segments: readonly string[]) => string;
  try {
    const before = await countAll(c);
    if (before.total > 0) return { filled: false, appended: 0, ...before };

    const existing = new Set(before.folders);
    const delimiter = (await c.list()).find((b) => b.delimiter)?.delimiter ?? '/';
    pathOf = (segments) => segments.join(delimiter);
    for (const folder of folders) {
      // parents first: INBOX/Projects before INBOX/Projects/2026
      for (let depth = 1; depth <= folder.path.length; depth += 1) {
        const p = pathOf(folder.path.slice(0, depth));
        if (existing.has(p)) continue;
        await c.mailboxCreate(p);
        await c.mailboxSubscribe(p).catch(() => undefined);
        existing.add(p);
      }
    }
  } catch (err) {
    await c.logout().catch(() => c.close());
    throw err;
  }

  const messages = demoMessages(target.address, opts);
  let next = 0;
  let appended = 0;
  let failed: Error | undefined;
  /** one session's share: the next message nobody took yet, until none is left or a session failed */
  const work = async (session: ImapFlow) => {
    while (!failed && next < messages.length) {
      const m = messages[next];
      next += 1;
      const raw = await compose(m.mail);
      const ok = await session.append(pathOf(m.folder), raw, m.flags, m.date);
      if (!ok) throw new Error(`APPEND to ${pathOf(m.folder)} was refused`);
      appended += 1;
    }
  };
  const count = Math.max(1, Math.min(Math.floor(opts.sessions ?? 8), 32, messages.length || 1));
  const extra: ImapFlow[] = [];
  try {
    for (let i = 1; i < count; i += 1) {
      const s = client(target);
      extra.push(s);
      await s.connect();
    }
    await Promise.all(
      [c, ...extra].map((s) =>
        work(s).catch((err: unknown) => {
          failed ??= err instanceof Error ? err : new Error(`APPEND failed: ${JSON.stringify(err)}`);
        }),
      ),
    );
    if (failed) throw failed;
    return { filled: true, appended, ...(await countAll(c)) };
  } finally {
    await Promise.all([c, ...extra].map((s) => s.logout().catch(() => s.close())));
  }
}
