import type { MailboxStore } from '../store/mailbox-store';
import type { MessageRecord } from '../store/model';
import { GraphError } from './graph-error';

type Predicate = (m: MessageRecord) => boolean;

interface Clause {
  property: string;
  predicate: Predicate;
}

const CLAUSE = /^\s*([A-Za-z/]+)\s+(eq|ne|ge|gt|le|lt)\s+('(?:[^']|'')*'|true|false|[0-9TZ:.+-]+)\s*$/i;

function literal(raw: string): string | boolean | number {
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const t = Date.parse(raw);
  if (!Number.isNaN(t) && /T/.test(raw)) return t;
  return Number(raw);
}

function compare(op: string, a: number | string | boolean, b: number | string | boolean): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'ge':
      return a >= b;
    case 'gt':
      return a > b;
    case 'le':
      return a <= b;
    case 'lt':
      return a < b;
    default:
      return false;
  }
}

const invalid = (clause: string) =>
  new GraphError(400, 'BadRequest', `Invalid filter clause: the clause '${clause.trim()}' is not supported.`);

/**
 * The subset of OData `$filter` mail clients use for messages: comparisons on isRead, hasAttachments,
 * importance, flag/flagStatus, receivedDateTime, from/emailAddress/address and subject, joined with `and`.
 */
export function parseMessageFilter(store: MailboxStore, raw: string | null): Clause[] {
  if (raw === null || raw.trim() === '') return [];
  return raw.split(/\s+and\s+/i).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw invalid(part);
    const property = m[1].toLowerCase();
    const op = m[2].toLowerCase();
    const value = literal(m[3]);
    const flags = ['notFlagged', 'flagged', 'complete'];
    let get: (msg: MessageRecord) => number | string | boolean;
    switch (property) {
      case 'isread':
        get = (msg) => msg.isRead;
        break;
      case 'hasattachments':
        get = (msg) => store.content(msg).hasAttachments;
        break;
      case 'importance':
        get = (msg) => store.content(msg).importance;
        break;
      case 'flag/flagstatus':
        get = (msg) => flags[msg.flag] ?? 'notFlagged';
        break;
      case 'receiveddatetime':
        if (typeof value !== 'number') throw invalid(part);
        get = (msg) => msg.receivedAt;
        break;
      case 'from/emailaddress/address':
        get = (msg) => store.content(msg).from.address.toLowerCase();
        break;
      case 'subject':
        get = (msg) => store.content(msg).subject;
        break;
      default:
        throw invalid(part);
    }
    const v = typeof value === 'string' && property.endsWith('address') ? value.toLowerCase() : value;
    return { property, predicate: (msg: MessageRecord) => compare(op, get(msg), v) };
  });
}

export function filterProperties(clauses: Clause[]): string[] {
  return clauses.map((c) => c.property);
}

export function matchesAll(clauses: Clause[], msg: MessageRecord): boolean {
  for (const c of clauses) if (!c.predicate(msg)) return false;
  return true;
}
