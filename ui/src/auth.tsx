// Who is signed in. Loaded once from GET /api/auth/session; any 401 from the API signs the console out.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { auth, onUnauthorized, setCsrfToken, type Session } from "./api";

interface AuthState {
  session: Session | null;
  loading: boolean;
  signIn: (key: string) => Promise<Session>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthState>({
  session: null,
  loading: true,
  signIn: async () => {
    throw new Error("no auth provider");
  },
  signOut: async () => {},
});

export function AuthProvider({ children, initial }: { children: ReactNode; initial?: Session | null }) {
  const [session, setSession] = useState<Session | null>(initial ?? null);
  const [loading, setLoading] = useState(initial === undefined);

  useEffect(() => {
    if (initial !== undefined) return;
    let live = true;
    auth
      .me()
      .then((s) => {
        if (!live) return;
        setCsrfToken(s.csrfToken ?? null);
        setSession(s);
      })
      .catch(() => live && setSession(null))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [initial]);

  useEffect(() => onUnauthorized(() => setSession(null)), []);

  const signIn = useCallback(async (key: string) => {
    const s = await auth.signIn(key);
    setCsrfToken(s.csrfToken ?? null);
    setSession(s);
    return s;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await auth.signOut();
    } finally {
      setCsrfToken(null);
      setSession(null);
    }
  }, []);

  const value = useMemo(() => ({ session, loading, signIn, signOut }), [session, loading, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export const useAuth = () => useContext(AuthContext);
