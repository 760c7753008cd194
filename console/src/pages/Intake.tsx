/**
 * 12345 intake for call-takers: category, building, unit, text, phone. On submit: the order the
 * complaint joined (or the new one) and the sentence to tell the caller (status, plan, deadline),
 * written by the server. The building's open orders are shown while the call is taken.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type ComplaintResult as Result, type District, type OrderList, type paths } from '../api/client';
import { StatusBadge } from '../components/Deadline';
import { currentLang, errorText, idsWith, t } from '../i18n';
import { Link } from '../router';
import { when } from '../time';

/** A 12345 category as the API takes it; the list comes from the server's texts (`category.*`). */
type Category = NonNullable<paths['/api/complaints']['post']['requestBody']>['content']['application/json']['category'];

export function Intake() {
  const [district, setDistrict] = useState<District | undefined>(undefined);
  const [form, setForm] = useState({ category: (idsWith('category.')[0] ?? 'other') as Category, community: '', building: '', unit: '', text: '', phone: '', urgent: false });
  const [open, setOpen] = useState<OrderList['items']>([]);
  const [result, setResult] = useState<Result | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => void api.GET('/api/district').then((r) => setDistrict(r.data)), []);
  useEffect(() => {
    if (form.building === '') return setOpen([]);
    void api.GET('/api/work-orders', { params: { query: { building: form.building, status: ['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying'].join(',') as never, lang: currentLang() } } }).then((r) => setOpen(r.data?.items ?? []));
  }, [form.building, result]);

  const communities = (district?.streets ?? []).flatMap((s) => s.communities).filter((c) => c.buildings.length > 0);
  const buildings = communities.find((c) => c.id === form.community)?.buildings ?? [];
  const set = <K extends keyof typeof form>(k: K, v: (typeof form)[K]) => setForm({ ...form, [k]: v, ...(k === 'community' ? { building: '' } : {}) });

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const body = {
      channel: '12345',
      receivedAt: Date.now(),
      community: form.community,
      building: form.building,
      category: form.category,
      text: form.text,
      urgent: form.urgent,
      ...(form.unit.trim() !== '' ? { unit: form.unit.trim() } : {}),
      ...(form.phone.trim() !== '' ? { callerPhone: form.phone.trim() } : {}),
    };
    const { data, error } = await api.POST('/api/complaints', { params: { query: { lang: currentLang() } }, body });
    setBusy(false);
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    setResult(data);
  }

  return (
    <section class="intake">
      <h1>{t('console.intake.title')}</h1>
      <div class="grid2">
        <form class="card stack" onSubmit={(e) => void submit(e)}>
          <label>
            {t('console.intake.category')}
            <select value={form.category} onChange={(e) => set('category', e.currentTarget.value as Category)}>
              {idsWith('category.').map((c) => (
                <option value={c}>{t(`category.${c}`)}</option>
              ))}
            </select>
          </label>
          <label>
            {t('console.intake.community')}
            <select required value={form.community} onChange={(e) => set('community', e.currentTarget.value)}>
              <option value="">—</option>
              {communities.map((c) => (
                <option value={c.id}>{c.name}</option>
              ))}
            </select>
          </label>
          <label>
            {t('console.intake.building')}
            <select required value={form.building} onChange={(e) => set('building', e.currentTarget.value)}>
              <option value="">—</option>
              {buildings.map((b) => (
                <option value={b.id}>{b.name}</option>
              ))}
            </select>
          </label>
          <label>
            {t('console.intake.unit')}
            <input value={form.unit} onInput={(e) => set('unit', e.currentTarget.value)} />
          </label>
          <label>
            {t('console.intake.text')}
            <textarea required rows={3} value={form.text} onInput={(e) => set('text', e.currentTarget.value)} />
          </label>
          <label>
            {t('console.intake.phone')}
            <input type="tel" inputMode="tel" autocomplete="off" value={form.phone} onInput={(e) => set('phone', e.currentTarget.value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={form.urgent} onChange={(e) => set('urgent', e.currentTarget.checked)} />
            {t('console.intake.urgent')}
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('console.intake.submit')}
          </button>
          {problem !== undefined && <p role="alert">{t('console.error', { message: problem })}</p>}
        </form>
        <div>
          {result !== undefined && (
            <section class="card result" aria-live="polite">
              <h2>
                {t(result.linked === 'existing' ? 'console.intake.linked' : 'console.intake.reactive', { code: result.order.code })}
              </h2>
              <p>
                <Link href={`/orders/${result.order.code}`}>{result.order.code}</Link> · <StatusBadge status={result.order.status} /> · {result.order.title} · {t('console.order.resolveDue')} {when(result.order.resolveDueAt)}
              </p>
              <p class="tell">
                <strong>{t('console.intake.tell')}</strong>
                <span class="sentence">{result.callerSentence}</span>
              </p>
            </section>
          )}
          {open.length > 0 && (
            <section class="card">
              <h2>{t('console.intake.open')}</h2>
              <ul>
                {open.map((o) => (
                  <li>
                    <Link href={`/orders/${o.code}`}>{o.code}</Link> <StatusBadge status={o.status} /> {o.title}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      </div>
    </section>
  );
}
