import { NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { useSession } from '@/auth/session';
import { VerifyEmailBanner } from '@/components/verify-email-banner';
import { useMe } from '@/hooks/use-me';
import { useRealtime } from '@/hooks/use-realtime';
import { useTheme } from '@/hooks/use-theme';

/** The signed-in frame: top bar with navigation, theme and sign-out; the page below. Signed-out users go to sign-in. */
export function Layout() {
  const session = useSession();
  const location = useLocation();
  const me = useMe();
  const { theme, toggle } = useTheme();
  useRealtime();

  if (session.status === 'loading') {
    return (
      <div className="splash" role="status">
        Loading…
      </div>
    );
  }
  if (session.status === 'signedOut') {
    return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  }
  const operator = me.data?.operator === true;

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Email Core</span>
        <nav aria-label="Main">
          <NavLink to="/mail">Mail</NavLink>
          <NavLink to="/accounts">Accounts</NavLink>
          {operator && <NavLink to="/ops">Ops</NavLink>}
        </nav>
        <span className="spacer" />
        <button
          type="button"
          className="icon-button"
          onClick={toggle}
          aria-label={theme === 'dark' ? 'Use light theme' : 'Use dark theme'}
          title="Toggle theme"
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <span className="user" title={session.user?.email}>
          {session.user?.email}
        </span>
        <button type="button" onClick={() => void session.signOut()}>
          Sign out
        </button>
      </header>
      <VerifyEmailBanner />
      <Outlet />
    </div>
  );
}
