// The console shell: header (language, user, sign-out), navigation by role, and the routes.
import { useEffect, useState, type ReactNode } from "react";
import { AuthProvider, useAuth } from "./auth";
import { I18nProvider, useI18n } from "./i18n";
import { Link, Router, match, useRouter } from "./router";
import { useTheme, type Theme } from "./theme";
import { Loading } from "./components/ui";
import { SignInPage } from "./pages/SignIn";
import { QuickStartPage } from "./pages/QuickStart";
import { ProvidersPage } from "./pages/Providers";
import { PluginsPage } from "./pages/Plugins";
import { UsersPage } from "./pages/Users";
import { PlaygroundPage } from "./pages/Playground";
import { ModelRatesPage } from "./pages/ModelRates";
import { CreditsPage } from "./pages/Credits";
import { UsagePage } from "./pages/Usage";
import { AccountPage } from "./pages/Account";
import { PricingPage } from "./pages/Pricing";
import { BuyCreditsPage } from "./pages/BuyCredits";
import { AuditLogPage } from "./pages/AuditLog";

interface RouteDef {
  path: string;
  label: string;
  admin?: boolean;
  public?: boolean;
  nav?: boolean;
  render: (params: Record<string, string>) => ReactNode;
}

export const ROUTES: RouteDef[] = [
  { path: "/console", label: "Quick start", admin: true, nav: true, render: () => <QuickStartPage /> },
  { path: "/console/providers", label: "Providers", admin: true, nav: true, render: () => <ProvidersPage /> },
  { path: "/console/plugins", label: "Plugins", admin: true, nav: true, render: () => <PluginsPage /> },
  { path: "/console/users", label: "Users and keys", admin: true, nav: true, render: () => <UsersPage /> },
  { path: "/console/models", label: "Models and rates", admin: true, nav: true, render: () => <ModelRatesPage /> },
  { path: "/console/credits", label: "Credits", admin: true, nav: true, render: () => <CreditsPage /> },
  { path: "/console/usage", label: "Usage", admin: true, nav: true, render: () => <UsagePage scope="all" /> },
  { path: "/console/audit", label: "Audit log", admin: true, nav: true, render: () => <AuditLogPage /> },
  {
    path: "/console/usage/projects/:appDid",
    label: "Usage",
    admin: true,
    render: (p) => <UsagePage scope="all" appDid={p.appDid} />,
  },
  { path: "/playground", label: "Playground", nav: true, render: () => <PlaygroundPage /> },
  { path: "/account", label: "My account", nav: true, render: () => <AccountPage /> },
  { path: "/account/usage", label: "My usage", nav: true, render: () => <UsagePage scope="mine" /> },
  {
    path: "/account/usage/projects/:appDid",
    label: "My usage",
    render: (p) => <UsagePage scope="mine" appDid={p.appDid} />,
  },
  { path: "/pricing", label: "Pricing", public: true, nav: true, render: () => <PricingPage /> },
  { path: "/credits", label: "Buy credits", render: () => <BuyCreditsPage /> },
];

export function App() {
  return (
    <I18nProvider>
      <Router>
        <AuthProvider>
          <Shell />
        </AuthProvider>
      </Router>
    </I18nProvider>
  );
}

function findRoute(path: string): { route: RouteDef; params: Record<string, string> } | null {
  const clean = path.length > 1 ? path.replace(/\/$/, "") : path;
  for (const route of ROUTES) {
    const params = match(route.path, clean);
    if (params) return { route, params };
  }
  return null;
}

export function Shell() {
  const { session, loading } = useAuth();
  const { path, navigate } = useRouter();
  const { t } = useI18n();
  const found = findRoute(path);

  // Where "/" and the sign-in page lead once the session is known.
  const home = session ? (session.isAdmin ? "/console" : "/account") : "/signin";
  const needsSignIn = !loading && !session && !(found?.route.public ?? false) && path !== "/signin";
  useEffect(() => {
    if (loading) return;
    if (path === "/" || (path === "/signin" && session)) navigate(next() ?? home, { replace: true });
    else if (needsSignIn) navigate(`/signin?next=${encodeURIComponent(path)}`, { replace: true });
  }, [loading, path, session, home, needsSignIn, navigate]);

  useEffect(() => {
    const label = found ? t(found.route.label) : path === "/signin" ? t("Sign in") : "";
    document.title = label ? `${label} · AIGNE Hub` : "AIGNE Hub";
  }, [found, path, t]);

  if (loading) return <Loading />;
  if (path === "/signin" && !session) return <SignInPage />;

  let content: ReactNode;
  if (!found) content = <NotFound />;
  else if (!session && !found.route.public) content = <Loading />;
  else if (found.route.admin && !session?.isAdmin) content = <Forbidden />;
  else content = found.route.render(found.params);

  return (
    <div className="shell">
      <Header />
      <div className="body">
        <Nav />
        <main id="main" tabIndex={-1}>
          {content}
        </main>
      </div>
    </div>
  );
}

function next(): string | null {
  const n = new URLSearchParams(window.location.search).get("next");
  return n && n.startsWith("/") && !n.startsWith("//") && n !== "/signin" ? n : null;
}

function Header() {
  const { session, signOut } = useAuth();
  const { t, lang, setLang } = useI18n();
  const { navigate } = useRouter();
  const [theme, setTheme] = useTheme();
  return (
    <header className="topbar">
      <a className="skip" href="#main">
        {t("Skip to content")}
      </a>
      <Link to="/" className="brand">
        <img src="./favicon.svg" alt="" width={24} height={24} /> <span className="brand-name">AIGNE Hub</span>
      </Link>
      <div className="spacer" />
      <label className="theme">
        <span className="sr-only">{t("Theme")}</span>
        <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)} aria-label={t("Theme")}>
          <option value="system">{t("System theme")}</option>
          <option value="light">{t("Light")}</option>
          <option value="dark">{t("Dark")}</option>
        </select>
      </label>
      <label className="lang">
        <span className="sr-only">{t("Language")}</span>
        <select value={lang} onChange={(e) => setLang(e.target.value as "en" | "zh")} aria-label={t("Language")}>
          <option value="en">English</option>
          <option value="zh">中文</option>
        </select>
      </label>
      {session ? (
        <>
          <span className="who" title={session.key.name ?? ""}>
            {session.user.name} <span className="role">{t(session.user.role)}</span>
          </span>
          <button
            type="button"
            className="btn small"
            onClick={async () => {
              await signOut();
              navigate("/signin");
            }}
          >
            {t("Sign out")}
          </button>
        </>
      ) : (
        <Link to="/signin" className="btn small primary">
          {t("Sign in")}
        </Link>
      )}
    </header>
  );
}

function Nav() {
  const { session } = useAuth();
  const { path } = useRouter();
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const items = ROUTES.filter((r) => r.nav && (r.public || session) && (!r.admin || session?.isAdmin));
  const groups: [string, RouteDef[]][] = [
    [t("Console"), items.filter((r) => r.admin)],
    [t("For you"), items.filter((r) => !r.admin)],
  ];
  return (
    <nav className={`sidenav ${open ? "open" : ""}`} aria-label={t("Main navigation")}>
      <button type="button" className="btn small menu-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        ☰ {t("Menu")}
      </button>
      {groups
        .filter(([, rs]) => rs.length)
        .map(([title, rs]) => (
          <div key={title} className="nav-group">
            <div className="nav-title">{title}</div>
            <ul>
              {rs.map((r) => (
                <li key={r.path}>
                  <Link
                    to={r.path}
                    aria-current={path === r.path ? "page" : undefined}
                    onClick={() => setOpen(false)}
                  >
                    {t(r.label)}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        ))}
    </nav>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <h1>{t("Page not found")}</h1>
      <p>
        <Link to="/">{t("Go to the start page")}</Link>
      </p>
    </section>
  );
}

function Forbidden() {
  const { t } = useI18n();
  return (
    <section>
      <h1>{t("Administrators only")}</h1>
      <p>{t("Sign in with an admin key to open the console.")}</p>
      <p>
        <Link to="/account">{t("Go to my account")}</Link>
      </p>
    </section>
  );
}
