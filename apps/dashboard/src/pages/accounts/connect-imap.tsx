import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useDemoImap, useLinkImap } from '@/hooks/use-accounts';
import {
  DEFAULT_PORTS,
  checkImapForm,
  emptyImapForm,
  linkBody,
  usernameOf,
  withSecurity,
  type ImapForm,
  type Security,
  type ServerKind,
} from '@/lib/imap-form';
import { describeImapLinkError, type ImapField, type ImapLinkProblem } from '@/lib/imap-link-errors';

const NAME: Record<ServerKind, string> = { imap: 'IMAP', smtp: 'SMTP' };
const HINT: Record<ServerKind, string> = {
  imap: 'Where your mail is read from (incoming mail).',
  smtp: 'Where your mail is sent through (outgoing mail).',
};

/**
 * "Connect an IMAP account": the address, then the IMAP and the SMTP server (host, port, security, user name,
 * password). The API logs in to both before anything is stored, so a refusal comes back in a few seconds and is
 * shown in words, on the half that failed. Passwords live in this component's state only (never in storage) and
 * are dropped once the account is linked or the form closed.
 */
export function ConnectImapForm({
  initialEmail = '',
  onLinked,
  onCancel,
}: {
  initialEmail?: string;
  onLinked: (accountId: string, email: string) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<ImapForm>(() => emptyImapForm(initialEmail));
  const [problem, setProblem] = useState<ImapLinkProblem | null>(null);
  /** bumped to move the focus to the first marked field once React has rendered the marks */
  const [focusTick, setFocusTick] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const focusFor = useRef<ImapField | undefined>(undefined);
  const link = useLinkImap();
  const demo = useDemoImap(true);
  const ids = { title: useId(), error: useId(), status: useId(), email: useId(), same: useId() };
  const emailInput = useRef<HTMLInputElement>(null);
  const domain = form.email.includes('@') ? form.email.slice(form.email.indexOf('@') + 1).trim() : '';

  useEffect(() => {
    emailInput.current?.focus();
  }, []);
  useEffect(() => {
    if (focusTick === 0 || !formRef.current) return;
    const wanted = focusFor.current;
    const target =
      (wanted && formRef.current.querySelector<HTMLElement>(`[data-field="${wanted}"]`)) ||
      formRef.current.querySelector<HTMLElement>('[aria-invalid="true"]');
    target?.focus();
  }, [focusTick]);

  const fieldError = (f: ImapField) => problem?.fields[f];
  const edit = (next: (f: ImapForm) => ImapForm) => setForm((f) => next(f));

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (link.isPending) return;
    const fields = checkImapForm(form);
    if (Object.keys(fields).length > 0) {
      setProblem({ text: 'Some settings are missing or not valid: check the marked fields.', fields });
      focusFor.current = undefined;
      setFocusTick((t) => t + 1);
      return;
    }
    setProblem(null);
    const body = linkBody(form);
    link.mutate(body, {
      onSuccess: (answer) => {
        // the passwords are not needed any more
        setForm(emptyImapForm());
        onLinked(answer.id, body.email);
      },
      onError: (err) => {
        const p = describeImapLinkError(err);
        setProblem(p);
        // the sentence is announced (role=alert); the focus goes to the first field it marks, if any
        focusFor.current = p.focus;
        if (Object.keys(p.fields).length > 0) setFocusTick((t) => t + 1);
      },
    });
  };

  const useDemo = () => {
    const d = demo.data;
    if (!d) return;
    setProblem(null);
    setForm({
      email: d.email,
      imap: { ...d.imap, port: String(d.imap.port) },
      smtp: { ...d.smtp, port: String(d.smtp.port) },
      smtpSamePassword: d.imap.password === d.smtp.password,
    });
  };

  return (
    <section className="accounts-imap" aria-labelledby={ids.title}>
      <form
        ref={formRef}
        onSubmit={submit}
        noValidate
        aria-describedby={problem ? ids.error : undefined}
        aria-busy={link.isPending}
      >
        <div className="accounts-imap-head">
          <h2 id={ids.title}>Connect an IMAP account</h2>
          {demo.data && (
            <button type="button" onClick={useDemo} disabled={link.isPending}>
              Use the demo mailbox
            </button>
          )}
        </div>
        <p className="muted accounts-imap-lead">
          Any mailbox that offers IMAP and SMTP (your provider's help pages list the servers). Email Core logs
          in to both now to check the settings; the passwords are stored encrypted and used only to sync and
          send.
        </p>

        <div className="accounts-imap-field">
          <label htmlFor={ids.email}>Email address</label>
          <input
            ref={emailInput}
            id={ids.email}
            data-field="email"
            name="email"
            type="email"
            autoComplete="email"
            inputMode="email"
            spellCheck={false}
            maxLength={254}
            value={form.email}
            onChange={(e) => edit((f) => ({ ...f, email: e.target.value }))}
            aria-invalid={fieldError('email') ? true : undefined}
            aria-describedby={fieldError('email') ? `${ids.email}-error` : undefined}
          />
          <FieldError id={`${ids.email}-error`} text={fieldError('email')} />
        </div>

        {(['imap', 'smtp'] as const).map((kind) => (
          <ServerFieldset
            key={kind}
            kind={kind}
            form={form}
            domain={domain}
            problem={problem}
            onChange={edit}
            sameId={ids.same}
          />
        ))}

        <div>
          {problem && (
            <div id={ids.error} className="accounts-imap-error" role="alert" data-error-code={problem.code}>
              <strong>{problem.text}</strong>
              {problem.code && problem.code !== 'VALIDATION_FAILED' && (
                <span className="muted"> Nothing was linked.</span>
              )}
            </div>
          )}
        </div>
        {link.isPending && (
          <p id={ids.status} className="muted" role="status">
            Logging in to the IMAP and SMTP servers…
          </p>
        )}

        <div className="accounts-actions">
          <button type="submit" className="primary" disabled={link.isPending}>
            {link.isPending ? 'Checking the servers…' : 'Connect'}
          </button>
          <button type="button" onClick={onCancel} disabled={link.isPending}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  if (!text) return null;
  return (
    <p id={id} className="accounts-imap-field-error">
      {text}
    </p>
  );
}

function ServerFieldset({
  kind,
  form,
  domain,
  problem,
  onChange,
  sameId,
}: {
  kind: ServerKind;
  form: ImapForm;
  domain: string;
  problem: ImapLinkProblem | null;
  onChange: (next: (f: ImapForm) => ImapForm) => void;
  sameId: string;
}) {
  const base = useId();
  const name = NAME[kind];
  const server = form[kind];
  const id = (f: string) => `${base}-${f}`;
  const err = (f: 'host' | 'port' | 'security' | 'username' | 'password') => problem?.fields[`${kind}.${f}`];
  const invalid = (f: Parameters<typeof err>[0]) => (err(f) ? true : undefined);
  const described = (f: Parameters<typeof err>[0]) => (err(f) ? id(`${f}-error`) : undefined);
  const set = (patch: Partial<ImapForm[ServerKind]>) =>
    onChange((f) => ({ ...f, [kind]: { ...f[kind], ...patch } }));
  const failed = problem?.server === kind;

  const field = (f: Parameters<typeof err>[0], label: string, input: ReactNode, className = '') => (
    <div className={`accounts-imap-field ${className}`}>
      <label htmlFor={id(f)}>{label}</label>
      {input}
      <FieldError id={id(`${f}-error`)} text={err(f)} />
    </div>
  );

  return (
    <fieldset
      className={`accounts-imap-server${failed ? ' accounts-imap-server-failed' : ''}`}
      data-server={kind}
    >
      <legend>{name} server</legend>
      <p className="muted accounts-imap-hint">
        {HINT[kind]} Usual ports: {DEFAULT_PORTS[kind].tls} with TLS, {DEFAULT_PORTS[kind].starttls} with
        STARTTLS.
      </p>
      <div className="accounts-imap-row">
        {field(
          'host',
          `${name} host`,
          <input
            id={id('host')}
            data-field={`${kind}.host`}
            name={`${kind}-host`}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            inputMode="url"
            maxLength={253}
            placeholder={domain ? `${kind}.${domain}` : `${kind}.example.com`}
            value={server.host}
            onChange={(e) => set({ host: e.target.value })}
            aria-invalid={invalid('host')}
            aria-describedby={described('host')}
          />,
          'accounts-imap-host',
        )}
        {field(
          'port',
          `${name} port`,
          <input
            id={id('port')}
            data-field={`${kind}.port`}
            name={`${kind}-port`}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            maxLength={5}
            value={server.port}
            onChange={(e) => set({ port: e.target.value.replace(/\D/g, '') })}
            aria-invalid={invalid('port')}
            aria-describedby={described('port')}
          />,
          'accounts-imap-port',
        )}
        {field(
          'security',
          `${name} security`,
          <select
            id={id('security')}
            data-field={`${kind}.security`}
            name={`${kind}-security`}
            value={server.security}
            onChange={(e) =>
              onChange((f) => ({ ...f, [kind]: withSecurity(kind, f[kind], e.target.value as Security) }))
            }
            aria-invalid={invalid('security')}
            aria-describedby={described('security')}
          >
            <option value="tls">TLS</option>
            <option value="starttls">STARTTLS</option>
          </select>,
          'accounts-imap-security',
        )}
      </div>
      <div className="accounts-imap-row">
        {field(
          'username',
          `${name} user name`,
          <input
            id={id('username')}
            data-field={`${kind}.username`}
            name={`${kind}-username`}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            maxLength={320}
            value={usernameOf(form, kind)}
            onChange={(e) => set({ username: e.target.value })}
            aria-invalid={invalid('username')}
            aria-describedby={[described('username'), id('username-hint')].filter(Boolean).join(' ')}
          />,
          'accounts-imap-grow',
        )}
        {(kind === 'imap' || !form.smtpSamePassword) &&
          field(
            'password',
            `${name} password`,
            <input
              id={id('password')}
              data-field={`${kind}.password`}
              name={`${kind}-password`}
              type="password"
              // a mail server's password, not this site's: the browser must not offer the Email Core sign-in here
              autoComplete="off"
              maxLength={1024}
              value={server.password}
              onChange={(e) => set({ password: e.target.value })}
              aria-invalid={invalid('password')}
              aria-describedby={described('password')}
            />,
            'accounts-imap-grow',
          )}
      </div>
      <p id={id('username-hint')} className="muted accounts-imap-hint">
        The user name is usually the full email address.
      </p>
      {kind === 'smtp' && (
        <label className="accounts-imap-same" htmlFor={sameId}>
          <input
            id={sameId}
            type="checkbox"
            checked={form.smtpSamePassword}
            onChange={(e) => onChange((f) => ({ ...f, smtpSamePassword: e.target.checked }))}
          />
          Same password as IMAP
        </label>
      )}
    </fieldset>
  );
}
