import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { ApiError, api, unwrap, type Schemas } from '@/api/client';
import { queryKeys } from '@/api/query-keys';
import { CodeField } from '@/components/code-field';
import { useToast } from '@/components/ui/toast';
import { useMe } from '@/hooks/use-me';
import { useCountdown } from '@/hooks/use-countdown';
import { describeCodeError } from '@/lib/code-errors';
import { RESEND_COOLDOWN_SECONDS, clockText, isCompleteCode } from '@/lib/one-time-code';

/**
 * "Verify your address", under the top bar while `GET /me` says `emailVerifiedAt: null`: the code sign-up mailed
 * (POST /auth/verify-email) and "Send again" (POST /auth/verify-email/resend, the wait shown on a 429). It goes
 * away once the address is verified (or the server says it already is).
 */
export function VerifyEmailBanner() {
  const me = useMe();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState<'verify' | 'resend' | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean; field?: string } | null>(null);
  // "Later" hides it for this tab (memory only): it is back on the next visit
  const [later, setLater] = useState(false);
  const cooldown = useCountdown();
  const ids = { title: useId(), code: useId(), message: useId() };

  const user = me.data;
  if (!user || user.emailVerifiedAt !== null || later) return null;

  const verified = (emailVerifiedAt: string | null) => {
    queryClient.setQueryData<Schemas['MeDto']>(queryKeys.me(), (old) =>
      old ? { ...old, emailVerifiedAt: emailVerifiedAt ?? old.emailVerifiedAt } : old,
    );
    void queryClient.invalidateQueries({ queryKey: queryKeys.me() });
    toast.show({ title: 'Your email address is verified.', tone: 'success' });
  };

  const verify = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!isCompleteCode(code)) {
      setMessage({ text: 'Enter the 6-digit code from the email.', error: true, field: 'code' });
      return;
    }
    setMessage(null);
    setBusy('verify');
    try {
      const answer = await unwrap(api.POST('/api/v1/auth/verify-email', { body: { code } }));
      verified(answer.emailVerifiedAt);
    } catch (err) {
      const problem = describeCodeError(err);
      setMessage({ text: problem.text, error: true, field: problem.field });
      setBusy(null);
    }
  };

  const resend = async () => {
    setMessage(null);
    setBusy('resend');
    try {
      await unwrap(api.POST('/api/v1/auth/verify-email/resend'));
      setCode('');
      setMessage({ text: `A new code is on its way to ${user.email}.`, error: false });
      cooldown.start(RESEND_COOLDOWN_SECONDS);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'EMAIL_ALREADY_VERIFIED') {
        verified(null);
        return;
      }
      if (err instanceof ApiError && err.status === 429) cooldown.start(err.retryAfterSeconds ?? 60);
      setMessage({ text: describeCodeError(err).text, error: true });
    } finally {
      setBusy(null);
    }
  };

  const codeInvalid = message?.error === true && message.field === 'code';

  return (
    <section className="verify-banner" aria-labelledby={ids.title}>
      <p className="verify-banner-text">
        <strong id={ids.title}>Verify your email address.</strong>{' '}
        <span className="muted">
          Enter the 6-digit code we emailed to <strong>{user.email}</strong>, or ask for a new one.
        </span>
      </p>
      <form className="verify-banner-form" onSubmit={(e) => void verify(e)} noValidate>
        <CodeField
          id={ids.code}
          label="Verification code"
          className="verify-banner-field"
          value={code}
          onChange={setCode}
          invalid={codeInvalid}
          describedBy={message ? ids.message : undefined}
        />
        <button type="submit" className="primary" disabled={busy !== null}>
          {busy === 'verify' ? 'Verifying…' : 'Verify'}
        </button>
        <button
          type="button"
          onClick={() => void resend()}
          disabled={busy !== null || cooldown.remaining > 0}
        >
          {busy === 'resend'
            ? 'Sending…'
            : cooldown.remaining > 0
              ? `Send again in ${clockText(cooldown.remaining)}`
              : 'Send again'}
        </button>
        <button
          type="button"
          className="link-button"
          onClick={() => setLater(true)}
          aria-label="Verify later (hide this until the next visit)"
        >
          Later
        </button>
      </form>
      {message && (
        <p
          id={ids.message}
          className={`verify-banner-message${message.error ? ' error' : ''}`}
          role={message.error ? 'alert' : 'status'}
        >
          {message.text}
        </p>
      )}
    </section>
  );
}
