/** The console: loads its texts and the session, then shows the page for the path. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setOnExpired } from './api/client';
import { Layout } from './components/Layout';
import { currentLang, loadTexts, t } from './i18n';
import { close as closeLive, setLiveExpiredHandler } from './live';
import { Board, prefetchBoard } from './pages/Board';
import { Crew } from './pages/Crew';
import { Device } from './pages/Device';
import { District } from './pages/District';
import { Intake } from './pages/Intake';
import { Kpis } from './pages/Kpis';
import { Login } from './pages/Login';
import { Order } from './pages/Order';
import { match, navigate, useLocation } from './router';
import { homeOf, markExpired, me, onSessionChange, refreshSession } from './session';
import './styles.css';

type Page = { path: string; roles: string[] | 'any'; render: (p: Record<string, string>, url: URL) => preact.JSX.Element };
const DESK = ['admin', 'dispatcher', 'viewer'];
export const PAGES: Page[] = [
  { path: '/board', roles: DESK, render: () => <Board /> },
  { path: '/orders/:code', roles: 'any', render: (p) => <Order code={p.code!} key={p.code} /> },
  { path: '/district', roles: DESK, render: () => <District /> },
  { path: '/devices/:id', roles: DESK, render: (p) => <Device id={p.id!} key={p.id} /> },
  { path: '/intake', roles: ['admin', 'dispatcher', 'call-taker'], render: () => <Intake /> },
  { path: '/kpis', roles: DESK, render: () => <Kpis /> },
  { path: '/crew', roles: ['crew'], render: (_p, url) => <Crew focus={url.searchParams.get('order')} /> },
];

function App() {
  const url = useLocation();
  const [, setVersion] = useState(0);
  const [ready, setReady] = useState(false);
  useEffect(() => onSessionChange(() => setVersion((v) => v + 1)), []);
  useEffect(() => {
    void boot.then(() => setReady(true));
  }, []);
  const user = me();
  const path = url.pathname;

  useEffect(() => {
    if (!ready) return;
    if (user === undefined && path !== '/login') {
      closeLive();
      navigate(`/login${url.search}`, true);
    } else if (user !== undefined && (path === '/' || path === '/login')) navigate(homeOf(user.role), true);
  }, [ready, user, path]);

  if (!ready) return <p>…</p>;
  // The pages are drawn again (Layout's key) and ask again in the new language; so does the live stream.
  const onLang = (l: 'zh' | 'en') =>
    void loadTexts(l).then(() => {
      closeLive();
      setVersion((v) => v + 1);
    });
  let content: preact.JSX.Element;
  if (user === undefined || path === '/login') content = <Login reason={url.searchParams.get('signin')} />;
  else {
    const found = PAGES.map((p) => ({ p, params: match(p.path, path) })).find((x) => x.params !== undefined);
    if (found === undefined) content = <p>{t('console.notFound')}</p>;
    else if (found.p.roles !== 'any' && !found.p.roles.includes(user.role)) content = <p role="alert">{t('console.forbidden')}</p>;
    else content = found.p.render(found.params!, url);
  }
  return (
    <Layout me={user} path={path} pages={PAGES.map((p) => p.path)} onLang={onLang} key={currentLang()}>
      {content}
    </Layout>
  );
}

if (location.pathname === '/board') prefetchBoard();
setOnExpired(markExpired);
setLiveExpiredHandler(markExpired);
/** The texts and the session, asked for as the script runs (beside the board's), not after the first render. */
const boot = Promise.all([loadTexts(), refreshSession()]);
render(<App />, document.getElementById('app')!);
