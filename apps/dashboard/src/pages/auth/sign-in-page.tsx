import { useId, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { ApiError, errorMessage } from '@/api/client';
import { useSession } from '@/auth/session';
import { waitText } from '@/lib/retry-after';
import { CodeSignIn } from './code-sign-in';
import './auth.css';

type Mode = 'signin' | 'signup';

const MIN_PASSWORD = 10;

/** The API's error codes as sentences for this form; anything else shows the server's own message. */
function describe(error: unknown, mode: Mode): { text: string; field?: 'email' | 'password' } {
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'INVALID_CREDENTIALS':
        return { text: 'Wrong email or password.', field: 'password' };
      case 'EMAIL_TAKEN':
        return { text: 'An account with this email already exists.', field: 'email' };
      case 'RATE_LIMITED':
        return { text: `Too many attempts. Try again ${waitText(error.retryAfterSeconds)}.` };
      case 'VALIDATION_FAILED':
        return { text: `Check your email and password: ${error.message}` };
      default:
        if (error.status >= 500) return { text: 'The server is unavailable. Try again in a moment.' };
    }
  }
  if (error instanceof TypeError) return { text: 'Cannot reach the server. Check your connection.' };
  return { text: mode === 'signin' ? `Sign-in failed: ${errorMessage(error)}` : errorMessage(error) };
}

/** Sign in or create an account; a signed-in visitor goes on to where they came from (or the mail). */
export function SignInPage({ mode }: { mode: Mode }) {
  const session = useSession();
  const location = useLocation();
  const from = (location.state as { from?: unknown } | null)?.from;
  const next = typeof from === 'string' && from.startsWith('/') && !from.startsWith('/sign') ? from : '/mail';
  // switching between sign-in and sign-up keeps where the visitor was going
  const carried = { from: next };
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // sign-in by emailed code, on the sign-in page (the address typed so far carries over both ways)
  const [withCode, setWithCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; field?: 'email' | 'password'; code?: string } | null>(
    null,
  );
  const ids = { email: useId(), password: useId(), error: useId(), hint: useId() };

  if (session.status === 'signedIn') return <Navigate to={next} replace />;
  if (session.status === 'loading') {
    return (
      <div className="splash" role="status">
        Loading…
      </div>
    );
  }

  const signup = mode === 'signup';
  if (!signup && withCode) {
    return (
      <main className="auth-page">
        <CodeSignIn
          initialEmail={email}
          onUsePassword={(typed) => {
            setEmail(typed);
            setWithCode(false);
            setError(null);
          }}
        />
      </main>
    );
  }
  const title = signup ? 'Create your account' : 'Sign in';

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await (signup ? session.signUp(email, password) : session.signIn(email, password));
      // the session is now signed in: the next render redirects
    } catch (err) {
      setError({ ...describe(err, mode), code: err instanceof ApiError ? err.code : undefined });
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="auth-title">
        <p className="auth-brand">Email Core</p>
        <h1 id="auth-title">{title}</h1>
        <div className="auth-field">
          <label htmlFor={ids.email}>Email</label>
          <input
            id={ids.email}
            name="email"
            type="email"
            autoComplete={signup ? 'email' : 'username'}
            required
            maxLength={254}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={error?.field === 'email' || undefined}
            aria-describedby={error?.field === 'email' ? ids.error : undefined}
            autoFocus
          />
        </div>
        <div className="auth-field">
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            name="password"
            type="password"
            autoComplete={signup ? 'new-password' : 'current-password'}
            required
            minLength={signup ? MIN_PASSWORD : 1}
            maxLength={256}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={error?.field === 'password' || undefined}
            aria-describedby={
              [signup ? ids.hint : '', error?.field === 'password' ? ids.error : '']
                .filter(Boolean)
                .join(' ') || undefined
            }
          />
          {signup && (
            <small id={ids.hint} className="muted">
              At least {MIN_PASSWORD} characters.
            </small>
          )}
        </div>
        {error && (
          <p id={ids.error} className="auth-error" role="alert">
            {error.text}
            {error.code === 'EMAIL_TAKEN' && (
              <>
                {' '}
                <Link to="/signin" state={carried}>
                  Sign in instead
                </Link>
              </>
            )}
          </p>
        )}
        <button type="submit" className="primary auth-submit" disabled={busy}>
          {busy ? (signup ? 'Creating account…' : 'Signing in…') : signup ? 'Create account' : 'Sign in'}
        </button>
        {!signup && (
          <>
            <p className="auth-or" aria-hidden="true">
              <span>or</span>
            </p>
            <button
              type="button"
              className="auth-submit"
              onClick={() => {
                setError(null);
                setWithCode(true);
              }}
            >
              Email me a sign-in code
            </button>
          </>
        )}
        <p className="auth-switch">
          {signup ? (
            <>
              Already have an account?{' '}
              <Link to="/signin" state={carried}>
                Sign in
              </Link>
            </>
          ) : (
            <>
              New here?{' '}
              <Link to="/signup" state={carried}>
                Create an account
              </Link>
            </>
          )}
        </p>
      </form>
    </main>
  );
}
