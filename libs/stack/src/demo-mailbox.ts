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

/** Each folder of the demo mailbox (mailbox path segments) and how many messages it gets. */
export const DEMO_FOLDERS: ReadonlyArray<{ path: readonly string[]; messages: number; kind: FolderKind }> = [
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

type FolderKind = 'inbox' | 'project' | 'newsletter' | 'archive' | 'sent' | 'draft';

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

  for (const folder of DEMO_FOLDERS) {
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
        if (!newest || rand() < 0.5) flags.push('\\Seen');
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
        if (folder.kind === 'draft') flags.push('\\Draft', '\\Seen');
        else if (sent || folder.kind === 'archive' || !newest || rand() < 0.3) flags.push('\\Seen');
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
export async function fillDemoMailbox(
  target: DemoMailboxTarget,
  opts: DemoMailboxOptions = {},
): Promise<DemoMailboxResult> {
  const c = client(target);
  await c.connect();
  try {
    const before = await countAll(c);
    if (before.total > 0) return { filled: false, appended: 0, ...before };

    const existing = new Set(before.folders);
    const delimiter = (await c.list()).find((b) => b.delimiter)?.delimiter ?? '/';
    const pathOf = (segments: readonly string[]) => segments.join(delimiter);
    for (const folder of DEMO_FOLDERS) {
      // parents first: INBOX/Projects before INBOX/Projects/2026
      for (let depth = 1; depth <= folder.path.length; depth += 1) {
        const p = pathOf(folder.path.slice(0, depth));
        if (existing.has(p)) continue;
        await c.mailboxCreate(p);
        await c.mailboxSubscribe(p).catch(() => undefined);
        existing.add(p);
      }
    }

    let appended = 0;
    for (const m of demoMessages(target.address, opts)) {
      const raw = await compose(m.mail);
      const ok = await c.append(pathOf(m.folder), raw, m.flags, m.date);
      if (!ok) throw new Error(`APPEND to ${pathOf(m.folder)} was refused`);
      appended += 1;
    }
    return { filled: true, appended, ...(await countAll(c)) };
  } finally {
    await c.logout().catch(() => c.close());
  }
}
