/**
 * One order: asset and place, the chart of the asset's readings with the rule's limits, the
 * evidence, every change (who, when, note), deliveries and linked complaints, the actions the
 * viewer's role allows (from the server) and a link to Grafana when configured.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, errorOf, type OrderDetail } from '../api/client';
import { TimeChart } from '../components/Chart';
import { Deadline, PriorityBadge, StatusBadge } from '../components/Deadline';
import { currentLang, errorText, t } from '../i18n';
import { useLive, useLiveState, type LiveMessage } from '../live';
import { Link } from '../router';
import { clock, when } from '../time';

type Readings = NonNullable<Awaited<ReturnType<typeof fetchReadings>>>;
const fetchReadings = async (code: string) => (await api.GET('/api/work-orders/{code}/readings', { params: { path: { code } } })).data;

/** The catalogue's text for `id`, or `raw` as the server sent it when the catalogue has none (a newer server). */
function textOr(id: string, raw: string): string {
  const text = t(id);
  return text === id ? raw : text;
}

type HistoryEntry = OrderDetail['history'][number];

/** A status change, or (for a new diagnosis, where the status stays) what changed, in the reader's language. */
function historyChange(h: HistoryEntry): string {
  if (h.change === 'upgraded') return t('console.history.upgraded', { from: h.priority?.from ?? '', to: h.priority?.to ?? '' });
  if (h.change === 're-diagnosed') return t('console.history.re-diagnosed');
  return `${h.from !== null ? `${t(`status.${h.from}`)} → ` : ''}${t(`status.${h.to}`)}`;
}

/**
 * A person's note as written. A new diagnosis is said in the reader's language (the server's
 * note on it, in English for the log, stays in the API).
 */
function historyNote(h: HistoryEntry): string {
  const rule = h.actor.startsWith('rule:') ? h.actor.slice('rule:'.length) : h.actor;
  if (h.change === 'upgraded') return t('console.history.by-rule', { rule });
  if (h.change === 're-diagnosed') return t('console.history.cause-found', { rule });
  return h.note ?? '';
}

export function Order(props: { code: string }) {
  const { code } = props;
  const [detail, setDetail] = useState<OrderDetail | undefined>(undefined);
  const [readings, setReadings] = useState<Readings | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [note, setNote] = useState('');
  const [rating, setRating] = useState('');
  const [done, setDone] = useState<string | undefined>(undefined);
  const { now } = useLiveState();

  const load = useCallback(async () => {
    const { data, error } = await api.GET('/api/work-orders/{code}', { params: { path: { code }, query: { lang: currentLang() } } });
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    setDetail(data);
    setReadings(await fetchReadings(code));
  }, [code]);
  useEffect(() => void load(), [load]);
  useLive(useCallback((e: LiveMessage) => void ((e.stream === 'order' && e.row.code === code) || e.stream === 'reconnected' ? load() : undefined), [code, load]));

  async function move(to: string) {
    setDone(undefined);
    const body = { to: to as OrderDetail['actions'][number], ...(note.trim() !== '' ? { note: note.trim() } : {}), ...(to === 'closed' && rating !== '' ? { rating: Number(rating) } : {}) };
    const { data, error } = await api.POST('/api/work-orders/{code}/transitions', { params: { path: { code } }, body });
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    setProblem(undefined);
    setNote('');
    setDone(t('console.action.done', { status: t(`status.${data.status}`) }));
    await load();
  }

  if (detail === undefined) return problem !== undefined ? <p role="alert">{t('console.error', { message: problem })}</p> : <p>{t('console.loading')}</p>;
  const o = detail.order;
  const port = readings?.port ?? null;

  return (
    <article class="order">
      <p>
        <Link href="/board">{t('console.back')}</Link>
      </p>
      <div class="page-head">
        <h1>
          <PriorityBadge priority={o.priority} /> {t('console.order.title', { code: o.code })}
        </h1>
        <StatusBadge status={o.status} />
      </div>
      <p class="lead">{o.title}</p>
      <div class="grid2">
        <section class="card" aria-labelledby="facts">
          <h2 id="facts">{t('console.order.place')}</h2>
          <dl class="facts">
            <dt>{t('console.order.place')}</dt>
            <dd>
              {detail.place.streetName} / {detail.place.communityName} / {detail.place.buildingName}
            </dd>
            <dt>{t('console.order.asset')}</dt>
            <dd>
              {o.deviceId !== null ? <Link href={`/devices/${o.deviceId}`}>{o.deviceId}</Link> : '—'}
              {port !== null && ` · ${t('console.order.port', { port })}`}
              {o.kind !== null && ` · ${t(`kind.${o.kind}`)}`}
            </dd>
            <dt>{t('console.order.source')}</dt>
            <dd>{t(`console.source.${o.source}`)}</dd>
            <dt>{t('console.order.created')}</dt>
            <dd>{when(o.createdAt)}</dd>
            <dt>{t('console.order.ackDue')}</dt>
            <dd>{when(o.ackDueAt)}</dd>
            <dt>{t('console.order.resolveDue')}</dt>
            <dd>
              {when(o.resolveDueAt)} <Deadline row={{ resolveDueAt: o.resolveDueAt, dueMetBy: detail.place.dueMetBy, onSiteAt: o.onSiteAt, status: o.status }} now={now} />
            </dd>
            <dt>{t('console.col.crew')}</dt>
            <dd>{detail.place.crewName ?? t('console.filter.none')}</dd>
            <dt>{t('console.col.escalation')}</dt>
            <dd>{t(`console.escalation.${o.escalationLevel}`)}</dd>
          </dl>
          <p>{o.description}</p>
          {readings !== undefined && readings.grafana !== null && (
            <p>
              <a href={readings.grafana} rel="noopener">
                {t('console.order.grafana')}
              </a>
            </p>
          )}
        </section>
        <section class="card" aria-labelledby="actions">
          <h2 id="actions">{t('console.order.actions')}</h2>
          {detail.actions.length === 0 ? (
            <p class="muted">—</p>
          ) : (
            <div class="actions">
              <label>
                {t('console.order.note')}
                <textarea rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
              </label>
              {detail.actions.includes('closed') && (
                <label>
                  {t('console.order.rating')}
                  <select value={rating} onChange={(e) => setRating(e.currentTarget.value)}>
                    <option value="">—</option>
                    {[5, 4, 3, 2, 1].map((n) => (
                      <option value={String(n)}>{n}</option>
                    ))}
                  </select>
                </label>
              )}
              {detail.actions.map((a) => (
                <button type="button" class={a === 'acknowledged' || a === 'on-site' || a === 'resolved' ? 'primary' : ''} onClick={() => void move(a)}>
                  {t(`console.action.${a}`)}
                </button>
              ))}
            </div>
          )}
          {done !== undefined && <p role="status">{done}</p>}
          {problem !== undefined && <p role="alert">{t('console.error', { message: problem })}</p>}
        </section>
      </div>

      <section class="card" aria-labelledby="readings">
        <h2 id="readings">{t('console.order.readings')}</h2>
        {readings !== undefined && readings.series.length === 0 ? (
          <p>{t('console.order.readings.noFields')}</p>
        ) : readings === undefined || readings.series.every((s) => s.points.length === 0) ? (
          <p>{t('console.order.readings.none')}</p>
        ) : (
          <>
            <TimeChart
              label={t('console.order.readings')}
              formatTime={(ms) => `${when(ms)}`}
              series={readings.series.map((s) => ({ name: `${s.field}${s.unit !== undefined ? ` (${s.unit})` : ''}`, ...(s.unit !== undefined ? { unit: s.unit } : {}), points: s.points as [number, number][] }))}
              limits={readings.limits.map((l) => ({ name: t('console.order.limit', { field: l.field, op: l.op, value: l.value }), value: l.value }))}
            />
            <p class="muted">{t(`console.order.readings.source.${readings.source}`)}</p>
          </>
        )}
      </section>

      <div class="grid2">
        <section class="card" aria-labelledby="evidence">
          {o.signals.length > 0 && (
            <>
              <h2 id="signals">{t('console.order.signals')}</h2>
              <ul class="signals">
                {o.signals.map((x) => (
                  <li data-rule={x.ruleId}>
                    {when(x.raisedAt)} · <code>{x.ruleId}</code> · {t(`console.order.signal.${x.role}`)} · {x.title} · {t(x.active ? 'console.order.signal.active' : 'console.order.signal.cleared')}
                    {x.count > 1 ? ` ×${x.count}` : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h2 id="evidence">{t('console.order.evidence')}</h2>
          {o.evidence.length === 0 ? (
            <p>{t('console.order.evidence.none')}</p>
          ) : (
            <ul class="evidence">
              {o.evidence.map((e) => (
                <li>
                  {clock(e.time)} · {e.ruleId !== undefined ? `${e.ruleId} · ` : ''}
                  <code>{e.field}</code> = {String(e.value)}
                  {e.unit !== undefined ? ` ${e.unit}` : ''}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="timeline">
          <h2 id="timeline">{t('console.order.timeline')}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('console.order.when')}</th>
                <th scope="col">{t('console.order.who')}</th>
                <th scope="col">{t('console.order.change')}</th>
                <th scope="col">{t('console.order.note')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.history.map((h) => (
                <tr>
                  <td>{when(h.at)}</td>
                  <td>{h.actor}</td>
                  <td>{historyChange(h)}</td>
                  <td>{historyNote(h)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>

      <div class="grid2">
        <section class="card" aria-labelledby="complaints">
          <h2 id="complaints">{t('console.order.complaints')}</h2>
          {detail.complaints.length === 0 ? (
            <p>{t('console.order.complaints.none')}</p>
          ) : (
            <ul>
              {detail.complaints.map((c) => (
                <li>
                  {when(c.receivedAt)} · {c.channel} · {t(`category.${c.category}`)} · {c.unit ?? ''} {c.text} {c.phoneMasked ?? ''}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="deliveries">
          <h2 id="deliveries">{t('console.order.deliveries')}</h2>
          {detail.deliveries.length === 0 ? (
            <p>{t('console.order.deliveries.none')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('console.order.when')}</th>
                  <th scope="col">{t('console.order.channel')}</th>
                  <th scope="col">{t('console.order.change')}</th>
                  <th scope="col">{t('console.order.result')}</th>
                </tr>
              </thead>
              <tbody>
                {detail.deliveries.map((d) => (
                  <tr>
                    <td>{when(d.createdAt)}</td>
                    <td>
                      {d.channel} <span class="muted">{d.target}</span>
                    </td>
                    <td>{textOr(`console.delivery.event.${d.event}`, d.event)}</td>
                    <td>
                      {textOr(`console.delivery.status.${d.status}`, d.status)} ({d.attempts})
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </article>
  );
}
