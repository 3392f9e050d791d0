import { Suspense, lazy, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '@/api/client';
import { useToast } from '@/components/ui/toast';
import { MAX_ATTACHMENTS } from '@email-core/contracts/mail-actions';
import { MAX_ATTACHMENT_BYTES } from '@email-core/contracts/uploads';
import { discardUpload } from '@/api/chunked-upload';
import { uploadAttachment, type Command } from '@/hooks/use-commands';
import type { MessageDetail } from '@/hooks/use-mail';
import { fileSize, longDate, parseRecipients, personFull, prefixed, recipientList } from './format';
import { cleanHtml, escapeHtml, initialBody } from './compose-body';
import { useDraft, type DraftFields } from '@/hooks/use-draft';
import { Icon } from './icons';

// TipTap/ProseMirror load with the first compose window, in their own chunk (not in the first screen's bundle)
const RichEditor = lazy(() => import('./rich-editor').then((m) => ({ default: m.RichEditor })));

export type ComposeMode = 'new' | 'reply' | 'replyAll' | 'forward';

export interface ComposeState {
  mode: ComposeMode;
  /** the message replied to or forwarded */
  original?: MessageDetail;
  /**
   * a draft reopened from Drafts: the form starts from it (its recipients, subject and body, the quote included),
   * saves replace it, Send sends it. A reply or forward draft comes with its mode and `original` (its
   * `draftOrigin`), so it stays one; any other draft is mode 'new'.
   */
  draft?: MessageDetail;
}

/** a reopened draft's body as the editor's starting HTML (made inert like any HTML from elsewhere) */
const draftHtml = (d: MessageDetail): string =>
  d.body?.contentType === 'html'
    ? cleanHtml(d.body.content)
    : escapeHtml(d.body?.content ?? '').replace(/\r?\n/g, '<br>');

/** a file attached in the form: uploaded as soon as it is added, sent by its upload id */
interface Attached {
  key: number;
  name: string;
  size: number;
  /** once `POST /uploads` has stored it */
  uploadId?: string;
  /** bytes stored so far (a large file goes in chunks) */
  sent?: number;
}
type WireAttachment = { uploadId: string };

type WireRecipient = { address: string; name?: string };
/** the editor's HTML (the API sanitizes it again); a reply's or forward's carries its quote (compose-body.ts) */
type WireBody = { contentType: 'html'; content: string };
type SendRequest =
  | {
      action: 'send';
      subject: string;
      body: WireBody;
      toRecipients: WireRecipient[];
      ccRecipients: WireRecipient[];
      bccRecipients: WireRecipient[];
      attachments: WireAttachment[];
    }
  | {
      action: 'reply';
      messageId: string;
      replyAll: boolean;
      body: WireBody;
      bccRecipients: WireRecipient[];
      attachments: WireAttachment[];
    }
  | {
      action: 'forward';
      messageId: string;
      toRecipients: WireRecipient[];
      body: WireBody;
      bccRecipients: WireRecipient[];
      attachments: WireAttachment[];
    };

interface Props {
  state: ComposeState;
  /** the account the draft is saved in (use-draft.ts) */
  accountId?: string;
  ownAddress: string | undefined;
  /** the account's signature (sanitized HTML), put under the cursor */
  signatureHtml?: string | null;
  onSend: (request: SendRequest) => Promise<Command>;
  onClose: () => void;
}

const TITLES: Record<ComposeMode, string> = {
  new: 'New message',
  reply: 'Reply',
  replyAll: 'Reply all',
  forward: 'Forward',
};

const toRequestRecipient = (r: { address: string; name: string }) =>
  r.name && r.name !== r.address ? { address: r.address, name: r.name } : { address: r.address };

/**
 * New mail, reply, reply all and forward, with attachments. Each file is uploaded as soon as it is added
 * (`POST /uploads`, its raw bytes) and the command names it by upload id; Send waits for the uploads. A file over
 * the API's limit is refused here with the reason, before anything is sent.
 */
export function Compose({ state, accountId, ownAddress, signatureHtml, onSend, onClose }: Props) {
  const { mode, original, draft: reopened } = state;
  const toast = useToast();
  const formId = useId();
  const replying = mode === 'reply' || mode === 'replyAll';
  const [to, setTo] = useState(() => (reopened ? recipientList(reopened.toRecipients) : ''));
  const [cc, setCc] = useState(() => (reopened ? recipientList(reopened.ccRecipients) : ''));
  const [bcc, setBcc] = useState('');
  const [subject, setSubject] = useState(reopened?.subject ?? '');
  // the editor's starting content (cursor line, signature, the quoted original), computed once
  const [startHtml] = useState(() =>
    reopened ? draftHtml(reopened) : initialBody(mode, original, signatureHtml),
  );
  const [body, setBody] = useState(startHtml);
  const [files, setFiles] = useState<Attached[]>([]);
  const nextKey = useRef(0);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const first = useRef<HTMLInputElement & HTMLTextAreaElement>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);

  const replyTo = (() => {
    if (!original || !replying) return [];
    // a reopened reply draft goes to whom it was saved for
    if (reopened) return reopened.toRecipients;
    // a reply to a mail the account sent goes to that mail's recipients (as the worker's IMAP rule does)
    const own = ownAddress?.toLowerCase();
    const sentBySelf = Boolean(own) && original.from?.address.toLowerCase() === own;
    const sender = sentBySelf ? original.toRecipients : original.from ? [original.from] : [];
    if (mode === 'reply') return sender;
    const all = [...sender, ...original.toRecipients, ...original.ccRecipients];
    const seen = new Set<string>();
    return all.filter((r) => {
      const key = r.address.toLowerCase();
      if (seen.has(key) || key === ownAddress?.toLowerCase()) return false;
      seen.add(key);
      return true;
    });
  })();
  const fixedSubject = reopened
    ? reopened.subject
    : original
      ? prefixed(mode === 'forward' ? 'FW' : 'RE', original.subject)
      : '';

  // the form saved as a draft a moment after typing stops, and when the window closes (use-draft.ts)
  const [origin] = useState(() =>
    original && mode !== 'new' ? { messageId: original.id, kind: mode } : undefined,
  );
  const draft = useDraft({ accountId, draftId: reopened?.id, origin });
  const draftFields = (): DraftFields => ({
    subject: mode === 'new' ? subject : fixedSubject,
    body: { contentType: 'html', content: body },
    toRecipients: (replying ? replyTo : parseRecipients(to).valid).map(toRequestRecipient),
    ccRecipients: mode === 'new' ? parseRecipients(cc).valid.map(toRequestRecipient) : [],
    bccRecipients: parseRecipients(bcc).valid.map(toRequestRecipient),
  });
  // only what the user changes is saved: not the form as it opened, nor the editor's first (normalized) HTML
  const lastFields = useRef<string | null>(null);
  const lastBody = useRef(body);
  const editorStarted = useRef(false);
  useEffect(() => {
    const fields = draftFields();
    const json = JSON.stringify(fields);
    // the editor's first HTML is the start normalized (same text), not an edit
    const textOf = (html: string) => html.replace(/<[^>]*>/g, '').trim();
    const editorStart =
      body !== lastBody.current && !editorStarted.current && textOf(body) === textOf(lastBody.current);
    if (body !== lastBody.current) editorStarted.current = true;
    lastBody.current = body;
    if (lastFields.current === null || editorStart) {
      const before = lastFields.current === null ? fields : (JSON.parse(lastFields.current) as DraftFields);
      lastFields.current = JSON.stringify({ ...before, body: fields.body });
    }
    if (json === lastFields.current) return;
    lastFields.current = json;
    draft.change(fields);
  }, [to, cc, bcc, subject, body]);
  const closeDraft = useRef(draft.close);
  closeDraft.current = draft.close;
  useEffect(() => () => closeDraft.current(), []);

  const addFiles = (list: FileList | null) => {
    if (!list) return;
    const added: Attached[] = [];
    const problems: string[] = [];
    for (const file of Array.from(list)) {
      if (files.length + added.length >= MAX_ATTACHMENTS) {
        problems.push(`At most ${MAX_ATTACHMENTS} attachments per mail: ${file.name} was not added.`);
        continue;
      }
      if (file.size > MAX_ATTACHMENT_BYTES) {
        problems.push(
          `${file.name} is ${fileSize(file.size)}: attachments can be at most ${fileSize(MAX_ATTACHMENT_BYTES)} each.`,
        );
        continue;
      }
      const key = nextKey.current++;
      added.push({ key, name: file.name, size: file.size });
      const progress = (sent: number) =>
        setFiles((now) => now.map((f) => (f.key === key ? { ...f, sent } : f)));
      uploadAttachment(file, progress).then(
        (upload) =>
          setFiles((now) => now.map((f) => (f.key === key ? { ...f, uploadId: upload.uploadId } : f))),
        (err: unknown) => {
          setFiles((now) => now.filter((f) => f.key !== key));
          setError(`${file.name} was not attached: ${errorMessage(err)}`);
        },
      );
    }
    setFiles((now) => [...now, ...added]);
    setError(problems.length ? problems.join(' ') : null);
  };
  const uploading = files.some((f) => !f.uploadId);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (uploading) return setError('Wait for the attachments to finish uploading.');
    // the API takes each uploaded file by its id
    const attachments = files.flatMap(({ uploadId }) => (uploadId ? [{ uploadId }] : []));
    let request: SendRequest;
    const html: WireBody = { contentType: 'html', content: body };
    const bccList = parseRecipients(bcc);
    if (bccList.invalid.length) return setError(`Not an email address: ${bccList.invalid.join(', ')}`);
    const bccRecipients = bccList.valid.map(toRequestRecipient);
    if (mode === 'new' || mode === 'forward') {
      const toList = parseRecipients(to);
      const ccList = parseRecipients(cc);
      const invalid = [...toList.invalid, ...ccList.invalid];
      if (invalid.length) return setError(`Not an email address: ${invalid.join(', ')}`);
      if (!toList.valid.length && !(mode === 'new' && (ccList.valid.length || bccRecipients.length)))
        return setError('Add at least one recipient.');
      request =
        mode === 'new'
          ? {
              action: 'send',
              subject,
              body: html,
              toRecipients: toList.valid.map(toRequestRecipient),
              ccRecipients: ccList.valid.map(toRequestRecipient),
              bccRecipients,
              attachments,
            }
          : {
              action: 'forward',
              messageId: original!.id,
              toRecipients: toList.valid.map(toRequestRecipient),
              body: html,
              bccRecipients,
              attachments,
            };
    } else {
      request = {
        action: 'reply',
        messageId: original!.id,
        replyAll: mode === 'replyAll',
        body: html,
        bccRecipients,
        attachments,
      };
    }
    setSending(true);
    setError(null);
    try {
      // without files the saved draft is what is sent (no copy left in Drafts); with files, the mail as before
      // and the draft removed
      if (files.length === 0) {
        const sent = await draft.send(draftFields());
        if (sent.status === 'failed') throw new Error(sent.reason ?? 'The draft could not be sent.');
        toast.show({ tone: 'success', title: 'Sent' });
      } else {
        await onSend(request).then(() => draft.discard());
        toast.show({ title: 'Sending…' });
      }
      onClose();
    } catch (err) {
      setError(errorMessage(err));
      setSending(false);
    }
  };

  return (
    <div className="mail-compose" role="dialog" aria-label={TITLES[mode]} aria-modal="false">
      <div className="mail-compose-head">
        <h2>{TITLES[mode]}</h2>
        <span className="muted mail-compose-draft" data-testid="draft-state" data-state={draft.state}>
          {draft.state === 'saving' ? 'Saving…' : draft.state === 'saved' ? 'Draft saved' : ''}
        </span>
        <button
          type="button"
          className="icon-button"
          onClick={onClose}
          aria-label="Close"
          title="Close (Esc): the draft is kept in Drafts"
        >
          <Icon name="close" />
        </button>
      </div>
      <form id={formId} className="mail-compose-form" onSubmit={(e) => void submit(e)}>
        {replying ? (
          <div className="mail-compose-fixed">
            <span className="muted">To</span> {recipientList(replyTo) || '(the sender)'}
          </div>
        ) : (
          <label>
            <span>To</span>
            <input
              ref={first}
              type="text"
              inputMode="email"
              autoComplete="email"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              placeholder="name@example.com, …"
            />
          </label>
        )}
        {mode === 'new' && (
          <label>
            <span>Cc</span>
            <input type="text" inputMode="email" value={cc} onChange={(e) => setCc(e.target.value)} />
          </label>
        )}
        <label>
          <span>Bcc</span>
          <input
            type="text"
            inputMode="email"
            value={bcc}
            onChange={(e) => setBcc(e.target.value)}
            title="Bcc recipients get the mail; nobody else sees them"
          />
        </label>
        {mode === 'new' ? (
          <label>
            <span>Subject</span>
            <input type="text" value={subject} onChange={(e) => setSubject(e.target.value)} />
          </label>
        ) : (
          <div className="mail-compose-fixed">
            <span className="muted">Subject</span> {fixedSubject}
          </div>
        )}
        <div className="mail-compose-body">
          <Suspense fallback={<p className="muted">Loading the editor…</p>}>
            <RichEditor initialHtml={startHtml} onChange={setBody} autoFocus={replying} label="Message" />
          </Suspense>
        </div>
        {original && !replying && mode === 'forward' && (
          <p className="mail-compose-quote muted">
            Forwarding “{original.subject}” from {original.from ? personFull(original.from) : '(no sender)'},{' '}
            {longDate(original.receivedAt)}, with its attachments.
          </p>
        )}
        {files.length > 0 && (
          <ul className="mail-compose-files" aria-label="Attachments">
            {files.map((f) => (
              <li key={f.key}>
                <Icon name="paperclip" size={14} /> <span>{f.name}</span>{' '}
                <span className="muted">
                  {f.uploadId
                    ? fileSize(f.size)
                    : `uploading ${fileSize(f.size)}… ${Math.floor(((f.sent ?? 0) / f.size) * 100)}%`}
                </span>
                <button
                  type="button"
                  className="icon-button"
                  aria-label={`Remove ${f.name}`}
                  onClick={() => {
                    if (f.uploadId) discardUpload(f.uploadId);
                    setFiles((now) => now.filter((g) => g.key !== f.key));
                  }}
                >
                  <Icon name="close" size={14} />
                </button>
              </li>
            ))}
          </ul>
        )}
        {error && (
          <p className="mail-compose-error" role="alert">
            {error}
          </p>
        )}
        <div className="mail-compose-actions">
          <button type="submit" className="primary" disabled={sending || uploading}>
            {sending ? 'Sending…' : uploading ? 'Uploading…' : 'Send'}
          </button>
          <label className="mail-compose-attach">
            <input
              type="file"
              multiple
              aria-label="Attach files"
              onChange={(e) => {
                addFiles(e.target.files);
                e.target.value = '';
              }}
            />
            <span aria-hidden="true">
              <Icon name="paperclip" size={15} /> Attach
            </span>
          </label>
          <span className="muted mail-compose-hint">
            up to {MAX_ATTACHMENTS} files, {fileSize(MAX_ATTACHMENT_BYTES)} each
          </span>
        </div>
      </form>
    </div>
  );
}
