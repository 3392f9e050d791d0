import { ApiError } from '../api/api-error';
import { waitText } from './retry-after';

/** A field of the Connect IMAP form, by the path `POST /accounts/imap` names it in its validation details. */
export type ImapField =
  | 'email'
  | 'imap.host'
  | 'imap.port'
  | 'imap.security'
  | 'imap.username'
  | 'imap.password'
  | 'smtp.host'
  | 'smtp.port'
  | 'smtp.security'
  | 'smtp.username'
  | 'smtp.password';

export const IMAP_FIELDS: readonly ImapField[] = [
  'email',
  'imap.host',
  'imap.port',
  'imap.security',
  'imap.username',
  'imap.password',
  'smtp.host',
  'smtp.port',
  'smtp.security',
  'smtp.username',
  'smtp.password',
];

/** What went wrong, in words: a sentence for the form, which server it concerns, and a message per field. */
export interface ImapLinkProblem {
  text: string;
  code?: string;
  server?: 'imap' | 'smtp';
  fields: Partial<Record<ImapField, string>>;
  /** the field the focus goes to (else the first marked one) */
  focus?: ImapField;
}

const NAME = { imap: 'IMAP', smtp: 'SMTP' } as const;
const FIELD_LABEL: Record<ImapField, string> = {
  email: 'Email address',
  'imap.host': 'IMAP server',
  'imap.port': 'IMAP port',
  'imap.security': 'IMAP security',
  'imap.username': 'IMAP user name',
  'imap.password': 'IMAP password',
  'smtp.host': 'SMTP server',
  'smtp.port': 'SMTP port',
  'smtp.security': 'SMTP security',
  'smtp.username': 'SMTP user name',
  'smtp.password': 'SMTP password',
};

const isField = (path: string): path is ImapField => (IMAP_FIELDS as readonly string[]).includes(path);

/** The API's validation message for one field, as a sentence that names the field. */
export function fieldSentence(field: ImapField, message: string): string {
  const label = FIELD_LABEL[field];
  if (message === 'required' || message === 'required but not set') {
    return field === 'email' ? 'Enter the email address.' : `Enter the ${label}.`;
  }
  if (field === 'email') return 'Enter a valid email address.';
  if (field.endsWith('.host')) {
    return `${label}: enter a host name or IP address only, like mail.example.com (no https://, port or path).`;
  }
  if (field.endsWith('.port')) return `${label}: enter a port number from 1 to 65535.`;
  return `${label} ${message}.`;
}

/** Which server a 422 names: `details.server`, else the code's prefix. */
function serverOf(error: ApiError): 'imap' | 'smtp' | undefined {
  const d = error.details as { server?: unknown } | undefined;
  if (d && (d.server === 'imap' || d.server === 'smtp')) return d.server;
  if (error.code.startsWith('IMAP_')) return 'imap';
  if (error.code.startsWith('SMTP_')) return 'smtp';
  return undefined;
}

/** Every error `POST /accounts/imap` can answer, as words for the form (and the fields to mark invalid). */
export function describeImapLinkError(error: unknown): ImapLinkProblem {
  if (!(error instanceof ApiError)) {
    if (error instanceof TypeError)
      return { text: 'Cannot reach Email Core. Check your connection.', fields: {} };
    return { text: error instanceof Error ? error.message : 'Something went wrong.', fields: {} };
  }
  const code = error.code;
  const server = serverOf(error);
  const s = server ?? 'imap';
  const name = NAME[s];
  switch (code) {
    case 'IMAP_AUTH_FAILED':
    case 'SMTP_AUTH_FAILED':
      return {
        code,
        server: s,
        text: `The ${name} server refused the password. Check the ${name} user name and password.`,
        focus: `${s}.password`,
        fields: {
          [`${s}.username`]: `The ${name} server did not accept this user name with the password.`,
          [`${s}.password`]: `The ${name} server refused this password.`,
        },
      };
    case 'IMAP_UNREACHABLE':
    case 'SMTP_UNREACHABLE':
      return {
        code,
        server: s,
        text: `Can't reach the ${name} server. Check its host name and port.`,
        fields: {
          [`${s}.host`]: `No ${name} server answered at this host and port.`,
          [`${s}.port`]: `No ${name} server answered on this port.`,
        },
      };
    case 'IMAP_TLS_FAILED':
    case 'SMTP_TLS_FAILED': {
      const ports =
        s === 'imap' ? 'port 993 uses TLS, 143 uses STARTTLS' : 'port 465 uses TLS, 587 uses STARTTLS';
      return {
        code,
        server: s,
        text:
          `Can't set up a secure connection to the ${name} server. Check the security setting and the port ` +
          `(usually ${ports}); the server's certificate must be valid for its host name.`,
        fields: {
          [`${s}.security`]: `This security setting did not work with the ${name} server on this port.`,
          [`${s}.port`]: `Check that this port matches the security setting (${ports}).`,
        },
      };
    }
    case 'HOST_NOT_ALLOWED':
      return {
        code,
        server: s,
        text:
          `That host isn't allowed: the ${name} server's address is a private, local or reserved one, ` +
          'which Email Core does not connect to.',
        fields: { [`${s}.host`]: `This ${name} host is not allowed (a private, local or reserved address).` },
      };
    case 'INSECURE_CONNECTION':
      return {
        code,
        server: s,
        text: `The ${name} server must be reached over TLS or STARTTLS: unencrypted connections aren't allowed.`,
        fields: { [`${s}.security`]: 'Choose TLS or STARTTLS.' },
      };
    case 'VALIDATION_FAILED': {
      const fields: Partial<Record<ImapField, string>> = {};
      const details = Array.isArray(error.details)
        ? (error.details as Array<{ path?: unknown; message?: unknown }>)
        : [];
      for (const d of details) {
        const path = typeof d.path === 'string' ? d.path : '';
        if (isField(path) && !fields[path]) {
          fields[path] = fieldSentence(path, typeof d.message === 'string' ? d.message : 'is not valid');
        }
      }
      return {
        code,
        text:
          Object.keys(fields).length > 0
            ? 'Some settings are not valid: check the marked fields.'
            : `The settings were refused: ${error.message}`,
        fields,
      };
    }
    case 'RATE_LIMITED':
      return {
        code,
        text: `Too many attempts to connect a mailbox. Try again ${waitText(error.retryAfterSeconds)}.`,
        fields: {},
      };
    case 'UNAUTHENTICATED':
      return { code, text: 'Your session has ended. Sign in again.', fields: {} };
    default:
      if (error.status === 429) {
        return {
          code,
          text: `Too many attempts. Try again ${waitText(error.retryAfterSeconds)}.`,
          fields: {},
        };
      }
      if (error.status >= 500) {
        return { code, text: 'Email Core is unavailable. Try again in a moment.', fields: {} };
      }
      return { code, text: error.message, fields: {} };
  }
}
