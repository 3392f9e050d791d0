import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { api, setAccessToken, setUnauthorizedHandler, unwrap } from '@/api/client';

type SessionBody = Awaited<ReturnType<typeof refreshCall>>;
type SessionUser = SessionBody['user'];

interface SessionState {
  status: 'loading' | 'signedOut' | 'signedIn';
  user: SessionUser | null;
  /** the current access token, for the realtime socket's handshake (memory only) */
  token: string | null;
}

interface SessionApi extends SessionState {
  signIn(email: string, password: string): Promise<void>;
  signUp(email: string, password: string): Promise<void>;
  /** signs in with a mailed code: the same session, token handling and refresh cookie as a password */
  signInWithCode(email: string, code: string): Promise<void>;
  signOut(): Promise<void>;
}

/**
 * Set while this browser holds a session. The refresh cookie is httpOnly (script cannot see it), so this hint
 * is how a first visit knows not to try a refresh that can only answer 401.
 */
const SESSION_HINT = 'ec-session';

const SessionContext = createContext<SessionApi | null>(null);

function refreshCall() {
  return unwrap(api.POST('/api/v1/auth/refresh'));
}

/**
 * The signed-in session: the access token in memory, renewed a minute before it expires through the refresh
 * cookie (and once more on a 401), so a reload or a new tab signs in again without a password.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'loading', user: null, token: null });
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inflight = useRef<Promise<string | null> | null>(null);

  const adopt = useCallback((session: SessionBody | null) => {
    if (timer.current) clearTimeout(timer.current);
    setAccessToken(session?.accessToken ?? null);
    if (session) localStorage.setItem(SESSION_HINT, '1');
    else localStorage.removeItem(SESSION_HINT);
    setState(
      session
        ? { status: 'signedIn', user: session.user, token: session.accessToken }
        : { status: 'signedOut', user: null, token: null },
    );
    if (session) {
      const renewIn = Math.max(10, session.expiresIn - 60) * 1000;
      timer.current = setTimeout(() => void refresh(), renewIn);
    }
  }, []);

  const refresh = useCallback((): Promise<string | null> => {
    inflight.current ??= refreshCall()
      .then((session) => {
        adopt(session);
        return session.accessToken;
      })
      .catch(() => {
        adopt(null);
        return null;
      })
      .finally(() => {
        inflight.current = null;
      });
    return inflight.current;
  }, [adopt]);

  useEffect(() => {
    setUnauthorizedHandler(refresh);
    if (localStorage.getItem(SESSION_HINT)) void refresh();
    else adopt(null);
    return () => {
      setUnauthorizedHandler(null);
      if (timer.current) clearTimeout(timer.current);
    };
  }, [refresh]);

  const value = useMemo<SessionApi>(
    () => ({
      ...state,
      async signIn(email, password) {
        adopt(await unwrap(api.POST('/api/v1/auth/signin', { body: { email, password } })));
      },
      async signUp(email, password) {
        adopt(await unwrap(api.POST('/api/v1/auth/signup', { body: { email, password } })));
      },
      async signInWithCode(email, code) {
        adopt(await unwrap(api.POST('/api/v1/auth/code/verify', { body: { email, code } })));
      },
      async signOut() {
        await unwrap(api.POST('/api/v1/auth/logout')).catch(() => undefined);
        adopt(null);
        queryClient.clear();
      },
    }),
    [state, adopt, queryClient],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
