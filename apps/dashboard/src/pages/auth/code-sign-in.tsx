import { useId, useState, type FormEvent } from 'react';
import { ApiError, api, unwrap } from '@/api/client';
import { useSession } from '@/auth/session';
import { CodeField } from '@/components/code-field';
import { useCountdown } from '@/hooks/use-countdown';
import { describeCodeError, type CodeErrorField } from '@/lib/code-errors';
import { RESEND_COOLDOWN_SECONDS, clockText, isCompleteCode } from '@/lib/one-time-code';

interface Problem {
  text: string;
  field?: CodeErrorField;
  code?: string;
}

/**
 * Sign-in by emailed code: the address (POST /auth/code/request, always 202), then the 6-digit code
 * (POST /auth/code/verify), which ends like a password sign-in (the access token in memory, the refresh cookie).
 * "Resend" waits out a short cool-down, or the server's Retry-After on a 429.
 */
export function CodeSignIn({
  initialEmail,
  onUsePassword,
}: {
  initialEmail: string;
  onUsePassword: (email: string) => void;
}) {
  const session = useSession();
  const [step, setStep] = useState<'email' | 'code'>('email');
  const [email, setEmail] = useState(initialEmail);
  const [code, setCode] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const cooldown = useCountdown();
  const ids = { email: useId(), code: useId(), error: useId(), status: useId() };

  const request = async (again: boolean) => {
    setProblem(null);
    setBusy(true);
    try {
      const answer = await unwrap(api.POST('/api/v1/auth/code/request', { body: { email } }));
      setSent(again ? `A new code is on its way. ${answer.message}` : answer.message);
      setStep('code');
      setCode('');
      cooldown.start(RESEND_COOLDOWN_SECONDS);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) cooldown.start(err.retryAfterSeconds ?? 60);
      setProblem(describeCodeError(err));
    } finally {
      setBusy(false);
    }
  };

  const verify = async () => {
    if (!isCompleteCode(code)) {
      setProblem({ field: 'code', text: 'Enter the 6-digit code from the email.' });
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      await session.signInWithCode(email, code);
      // signed in: the sign-in page redirects on the next render
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) cooldown.start(err.retryAfterSeconds ?? 60);
      setProblem(describeCodeError(err));
      setBusy(false);
    }
  };

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void (step === 'email' ? request(false) : verify());
  };

  const error = problem && (
    <p id={ids.error} className="auth-error" role="alert" data-error-code={problem.code}>
      {problem.text}
    </p>
  );

  return (
    <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title" noValidate={step === 'code'}>
      <p className="auth-brand">Email Core</p>
      <h1 id="auth-title">Sign in with a code</h1>
      {step === 'email' ? (
        <>
          <p className="muted auth-lead">We will email you a 6-digit code. No password needed.</p>
          <div className="auth-field">
            <label htmlFor={ids.email}>Email</label>
            <input
              id={ids.email}
              name="email"
              type="email"
              autoComplete="username"
              required
              maxLength={254}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={problem?.field === 'email' || undefined}
              aria-describedby={problem?.field === 'email' ? ids.error : undefined}
              autoFocus
            />
          </div>
          {error}
          <button type="submit" className="primary auth-submit" disabled={busy || cooldown.remaining > 0}>
            {busy
              ? 'Sending…'
              : cooldown.remaining > 0
                ? `Send code in ${clockText(cooldown.remaining)}`
                : 'Send code'}
          </button>
        </>
      ) : (
        <>
          <p id={ids.status} className="muted auth-lead" role="status">
            {sent} Sent to <strong className="auth-address">{email}</strong>.
          </p>
          <CodeField
            id={ids.code}
            label="Sign-in code"
            value={code}
            onChange={setCode}
            invalid={problem?.field === 'code'}
            describedBy={[ids.status, problem?.field === 'code' ? ids.error : ''].filter(Boolean).join(' ')}
            autoFocus
          />
          {error}
          <button type="submit" className="primary auth-submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <div className="auth-row">
            <button
              type="button"
              onClick={() => void request(true)}
              disabled={busy || cooldown.remaining > 0}
              aria-describedby={ids.status}
            >
              {cooldown.remaining > 0 ? `Resend in ${clockText(cooldown.remaining)}` : 'Resend code'}
            </button>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setStep('email');
                setProblem(null);
                setCode('');
                cooldown.start(0);
              }}
            >
              Use a different email
            </button>
          </div>
        </>
      )}
      <p className="auth-switch">
        <button type="button" className="link-button" onClick={() => onUsePassword(email)}>
          Sign in with a password instead
        </button>
      </p>
    </form>
  );
}
