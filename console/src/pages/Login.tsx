/** Sign-in: user name and password; says why when a session expired or a link was refused. */
import { useState } from 'preact/hooks';
import { has, t } from '../i18n';
import { navigate } from '../router';
import { homeOf, me, session, signIn } from '../session';

export function Login(props: { reason: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const notice = problem ?? (props.reason !== null && has(`console.signin.${props.reason}`) ? t(`console.signin.${props.reason}`) : session()?.expired === true ? t('console.login.expired') : undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    const r = await signIn(username, password);
    setBusy(false);
    if (r.ok) {
      navigate(homeOf(me()!.role), true);
      return;
    }
    if (r.code === 'PRECALL_ERR_AUTH_LOGIN_THROTTLED') setProblem(t('console.login.throttled', { minutes: Math.ceil((r.retryAfterS ?? 60) / 60) }));
    else if (r.code === 'PRECALL_ERR_AUTH_LOGIN_FAILED') setProblem(t('console.login.failed'));
    else if (r.code === 'PRECALL_ERR_AUTH_CSRF') setProblem(t('console.login.csrf'));
    else setProblem(t('console.error', { message: r.message }));
  }

  return (
    <section class="login">
      <h1>{t('console.login.title')}</h1>
      {notice !== undefined && (
        <p class="notice" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t('console.login.username')}
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          {t('console.login.password')}
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('console.login.submit')}
        </button>
      </form>
    </section>
  );
}
