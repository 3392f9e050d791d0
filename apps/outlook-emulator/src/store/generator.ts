import type { EmailAddress, Importance, MessageContent } from './model';

/** mulberry32: small, fast, deterministic */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0x2f, 16777619);
  }
  return h >>> 0;
}

const FIRST = [
  'Ada',
  'Ben',
  'Chloé',
  'Dmitri',
  'Elena',
  'Farah',
  'Gustavo',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lars',
  'Mei',
  'Noah',
  'Olga',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Yusuf',
  'Zoë',
];
const LAST = [
  'Okafor',
  'Lindqvist',
  'Moreau',
  'Ivanova',
  'Haddad',
  'Pereira',
  'Tanaka',
  'García',
  'Schmidt',
  'Adeyemi',
  'Nielsen',
  'Chen',
  'Brown',
  'Kowalski',
  'Sharma',
  'Dubois',
  'Rossi',
  'Berg',
  'Khan',
  'Patel',
  'Novak',
];
const DOMAINS = [
  'contoso.com',
  'fabrikam.com',
  'northwind.example',
  'adatum.net',
  'tailspin.io',
  'litware.org',
];
const NEWSLETTERS: EmailAddress[] = [
  { name: 'GitHub', address: 'noreply@github.example' },
  { name: 'Contoso Travel', address: 'bookings@travel.contoso.com' },
  { name: 'Fabrikam Weekly', address: 'newsletter@fabrikam.com' },
  { name: 'Northwind Billing', address: 'billing@northwind.example' },
];
const TOPICS = [
  'Q3 planning',
  'the migration',
  'budget review',
  'the offsite',
  'customer escalation',
  'release 4.2',
  'hiring loop',
  'design review',
  'the Kafka upgrade',
  'security audit',
  'onboarding',
  'the roadmap',
  'invoice #4471',
  'quarterly report',
  'the API contract',
  'incident 2291',
  'vendor renewal',
  'team lunch',
];
const SUBJECTS = [
  'Notes from {t}',
  'Quick question about {t}',
  'Re: {t}',
  'Action items: {t}',
  'Update on {t}',
  'Can we move {t}?',
  'FW: {t}',
  'Draft for {t}',
  'Reminder: {t} tomorrow',
  'Decision needed on {t}',
];
const SENTENCES = [
  'Thanks for pulling this together so quickly.',
  'I have attached the latest numbers; the trend is holding.',
  'Could you take a look before Thursday?',
  'We agreed to revisit the open points next week.',
  'The customer confirmed the new timeline this morning.',
  'Let me know if anything here looks off to you.',
  'I think we should keep the scope as it is for now.',
  'The draft is in the shared folder, comments welcome.',
  'Ops reported no regressions after the rollout.',
  'Please make sure the invoice references the PO number.',
  'Happy to set up a call if that is easier.',
  'Summary: two blockers, both owned, both due Friday.',
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

const HTML_HEAD =
  '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>';

const people = new Map<number, EmailAddress>();

/** someone from the fixed cast; the same draws give the same (shared, never mutated) object */
export function person(r: () => number): EmailAddress {
  const f = Math.floor(r() * FIRST.length);
  const l = Math.floor(r() * LAST.length);
  const d = Math.floor(r() * DOMAINS.length);
  const key = (f * LAST.length + l) * DOMAINS.length + d;
  let p = people.get(key);
  if (!p) {
    const first = FIRST[f];
    const last = LAST[l];
    const local = `${first}.${last}`
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
    p = { name: `${first} ${last}`, address: `${local}@${DOMAINS[d]}` };
    people.set(key, p);
  }
  return p;
}

export interface SeedOwner {
  address: string;
  displayName: string;
  seed: number;
}

/** what a seeded message's stored state starts as (the rest is content, regenerated on demand) */
export interface SeedState {
  isRead: boolean;
  flag: number;
  receivedAt: number;
  /** where the message is filed: [0,1), mapped to folders by {@link seedFolderSlot} */
  slot: number;
}

/** the share of seeded mail per well-known folder; the rest spreads over the custom folders */
export const SEED_FOLDER_SHARES: readonly { folder: string; upTo: number }[] = [
  { folder: 'inbox', upTo: 0.6 },
  { folder: 'sentitems', upTo: 0.75 },
  { folder: 'archive', upTo: 0.8 },
  { folder: 'deleteditems', upTo: 0.84 },
  { folder: 'junkemail', upTo: 0.87 },
];

export function isSentSlot(slot: number): boolean {
  return slot >= 0.6 && slot < 0.75;
}

const EPOCH = Date.UTC(2026, 0, 1);
const YEAR_MS = 300 * 24 * 3600 * 1000;

export function seedState(owner: SeedOwner, serial: number): SeedState {
  const r = prng(hashSeed(owner.seed, serial, 'state'));
  const ageRank = r();
  const slot = r();
  return {
    isRead: isSentSlot(slot) || r() < 0.7,
    flag: r() < 0.08 ? 1 : r() < 0.02 ? 2 : 0,
    receivedAt: EPOCH + Math.floor(ageRank * YEAR_MS),
    slot,
  };
}

/**
 * The content of seeded message `serial` of a mailbox: threads (about four messages share a conversation),
 * people from a fixed cast, HTML bodies a few paragraphs long. Pure: the same owner and serial always give
 * the same message.
 */
export function seededContent(owner: SeedOwner, serial: number): MessageContent {
  const { slot, receivedAt } = seedState(owner, serial);
  const sentFolder = isSentSlot(slot);
  const r = prng(hashSeed(owner.seed, serial, 'content'));
  const thread = Math.floor(serial / (2 + Math.floor(r() * 4)));
  const tr = prng(hashSeed(owner.seed, thread, 'thread'));
  const topic = pick(tr, TOPICS);
  const newsletter = r() < 0.15;
  const me: EmailAddress = { name: owner.displayName, address: owner.address };
  const other = newsletter ? pick(r, NEWSLETTERS) : person(r);
  const from = sentFolder ? me : other;
  const to = sentFolder ? [other] : [me];
  const cc: EmailAddress[] = [];
  const ccCount = newsletter ? 0 : Math.floor(r() * 3);
  for (let i = 0; i < ccCount; i++) cc.push(person(r));
  const subject = pick(tr, SUBJECTS).replace('{t}', topic);
  const greeting = `Hi ${(to[0]?.name ?? 'there').split(' ')[0] ?? 'there'},`;
  // The cast and the sentences hold no markup characters and single spaces only, so the HTML, the text and
  // the preview are assembled in one pass, without escaping or whitespace clean-up.
  let htmlParas = '';
  let textParas = '';
  let flat = '';
  const pcount = 2 + Math.floor(r() * 4);
  for (let p = 0; p < pcount; p++) {
    let para = pick(r, SENTENCES);
    const scount = 2 + Math.floor(r() * 4);
    for (let i = 1; i < scount; i++) para += ` ${pick(r, SENTENCES)}`;
    htmlParas += `<p>${para}</p>`;
    textParas += `${para}\n`;
    if (flat.length < 300) flat += ` ${para}`;
  }
  const html = `${HTML_HEAD}<p>${greeting}</p>${htmlParas}<p>Best,<br>${from.name}</p></body></html>`;
  const text = `${greeting}\n${textParas}Best,\n${from.name}`;
  const preview = `${greeting}${flat} Best, ${from.name}`.slice(0, 255).trimEnd();
  const importance: Importance = r() < 0.05 ? 'high' : r() < 0.03 ? 'low' : 'normal';
  const hasAttachments = r() < 0.12;
  return {
    subject,
    bodyContentType: 'html',
    body: html,
    text,
    preview,
    from,
    sender: from,
    toRecipients: to,
    ccRecipients: cc,
    bccRecipients: [],
    replyTo: [],
    internetMessageId: `<${owner.seed.toString(36)}.${serial.toString(36)}@${from.address.split('@')[1] ?? 'example.com'}>`,
    conversationId: `AAQkAG${Buffer.from(`${owner.seed}:${thread}`).toString('base64url')}=`,
    conversationIndex: Buffer.from(`${thread}:${serial}`).toString('base64'),
    importance,
    categories: r() < 0.1 ? [pick(r, ['Blue category', 'Red category', 'Green category'])] : [],
    isDraft: false,
    isReadReceiptRequested: false,
    inferenceClassification: newsletter ? 'other' : 'focused',
    sentAt: receivedAt - Math.floor(r() * 120000),
    hasAttachments,
    attachments: [],
  };
}

/** a deterministic attachment for seeded messages that report hasAttachments */
export function seededAttachment(
  owner: SeedOwner,
  serial: number,
): { name: string; contentType: string; contentBytes: string; size: number; isInline: boolean } {
  const r = prng(hashSeed(owner.seed, serial, 'attachment'));
  const kind = pick(r, [
    { ext: 'pdf', type: 'application/pdf' },
    { ext: 'xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
    { ext: 'txt', type: 'text/plain' },
  ]);
  const text = `Attachment ${serial} for ${owner.address}\n${SENTENCES.join('\n')}\n`;
  const bytes = Buffer.from(text);
  return {
    name: `${pick(r, ['report', 'notes', 'invoice', 'minutes', 'plan'])}-${serial}.${kind.ext}`,
    contentType: kind.type,
    contentBytes: bytes.toString('base64'),
    size: bytes.length,
    isInline: false,
  };
}

/** bodyPreview: the first 255 characters of the text, whitespace collapsed */
export function bodyPreview(text: string): string {
  return text.slice(0, 400).replace(/\s+/g, ' ').trim().slice(0, 255);
}

/** text of an HTML body, for bodyPreview and `Prefer: outlook.body-content-type="text"` */
export function htmlToText(html: string): string {
  return html
    .replace(/<head[\s\S]*?<\/head>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div)>|<hr[^>]*>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
