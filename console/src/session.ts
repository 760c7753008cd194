/** Who is signed in, from GET /api/session; the CSRF token it returns goes to the API client. */
import { api, errorOf, setCsrfToken, type Me, type SessionState } from './api/client';

let state: SessionState | undefined;
const listeners = new Set<() => void>();
const changed = () => {
  for (const l of listeners) l();
};
export const onSessionChange = (l: () => void) => {
  listeners.add(l);
  return () => void listeners.delete(l);
};
export const session = () => state;
export const me = (): Me | undefined => state?.user ?? undefined;

export async function refreshSession(): Promise<SessionState> {
  const { data, error } = await api.GET('/api/session');
  if (data === undefined) throw new Error(errorOf(error).message);
  state = data;
  setCsrfToken(data.csrfToken);
  changed();
  return data;
}

export async function signIn(username: string, password: string): Promise<{ ok: true } | { ok: false; code: string; message: string; retryAfterS?: number }> {
  const { data, error, response } = await api.POST('/api/session', { body: { username, password } });
  if (data === undefined) {
    const e = errorOf(error);
    const retry = Number(response.headers.get('retry-after'));
    return { ok: false, ...e, ...(Number.isFinite(retry) && retry > 0 ? { retryAfterS: retry } : {}) };
  }
  state = data;
  setCsrfToken(data.csrfToken);
  changed();
  return { ok: true };
}

export async function signOut(): Promise<void> {
  await api.DELETE('/api/session');
  await refreshSession();
}

/** The server said the session is gone: forget it and show the sign-in page with the reason. */
export function markExpired(): void {
  if (state !== undefined) state = { ...state, user: null, expired: true };
  changed();
  void refreshSession().then((s) => {
    state = { ...s, expired: true };
    changed();
  });
}

/** Where a role starts. */
export function homeOf(role: Me['role']): string {
  return role === 'crew' ? '/crew' : role === 'call-taker' ? '/intake' : '/board';
}
