/** Header (app name, navigation for the role, language switch, user, sign out) and the page. */
import type { ComponentChildren } from 'preact';
import type { Me } from '../api/client';
import { currentLang, t } from '../i18n';
import { Link } from '../router';
import { signOut } from '../session';

/** Pages a role uses (the server refuses the rest anyway). */
function navFor(role: Me['role']): { href: string; id: string }[] {
  const all = [
    { href: '/board', id: 'console.nav.board', roles: ['admin', 'dispatcher', 'viewer'] },
    { href: '/district', id: 'console.nav.district', roles: ['admin', 'dispatcher', 'viewer'] },
    { href: '/intake', id: 'console.nav.intake', roles: ['admin', 'dispatcher', 'call-taker'] },
    { href: '/kpis', id: 'console.nav.kpis', roles: ['admin', 'dispatcher', 'viewer'] },
    { href: '/crew', id: 'console.nav.crew', roles: ['crew'] },
  ];
  return all.filter((n) => n.roles.includes(role));
}

export function Layout(props: { me: Me | undefined; path: string; pages: string[]; onLang: (l: 'zh' | 'en') => void; children: ComponentChildren }) {
  const { me } = props;
  return (
    <>
      <header class="top">
        <span class="brand">{t('console.app')}</span>
        {me !== undefined && (
          <nav aria-label={t('console.nav')}>
            {navFor(me.role)
              .filter((n) => props.pages.includes(n.href))
              .map((n) => (
              <Link href={n.href} class={props.path.startsWith(n.href) ? 'active' : ''} aria-current={props.path.startsWith(n.href) ? 'page' : undefined}>
                {t(n.id)}
              </Link>
            ))}
          </nav>
        )}
        <span class="spacer" />
        <button type="button" class="link" title={t('console.lang.label')} lang={currentLang() === 'zh' ? 'en' : 'zh-CN'} onClick={() => props.onLang(currentLang() === 'zh' ? 'en' : 'zh')}>
          {t('console.lang.switch')}
        </button>
        {me !== undefined && (
          <>
            <span class="who">{t('console.signedInAs', { user: me.crew !== null && me.id.startsWith('link:') ? me.crew : me.id, role: t(`console.role.${me.role}`) })}</span>
            <button type="button" class="link" onClick={() => void signOut()}>
              {t('console.signOut')}
            </button>
          </>
        )}
      </header>
      <main id="main">{props.children}</main>
    </>
  );
}
