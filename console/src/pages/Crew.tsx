/**
 * The crew's phone page (360 px): my open orders, each with large buttons to acknowledge, report
 * on site, and report resolved with a note. Which buttons work comes from the server (the order's
 * actions for this crew); other crews' orders are refused by the server, not just hidden.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, errorOf, type BoardRow, type OrderDetail } from '../api/client';
import { Deadline, PriorityBadge, StatusBadge } from '../components/Deadline';
import { currentLang, errorText, t } from '../i18n';
import { useLive, useLiveState, setServerNow, type LiveMessage } from '../live';
import { me } from '../session';

const BUTTONS = ['acknowledged', 'on-site', 'resolved'] as const;

export function Crew(props: { focus: string | null }) {
  const [rows, setRows] = useState<BoardRow[] | undefined>(undefined);
  const [crewName, setCrewName] = useState<string | undefined>(undefined);
  const [places, setPlaces] = useState<Record<string, { name: string; community: string }>>({});
  const [actions, setActions] = useState<Record<string, OrderDetail['actions']>>({});
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const { now } = useLiveState();

  const load = useCallback(async () => {
    const { data, error } = await api.GET('/api/board', { params: { query: { lang: currentLang() } } });
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    setServerNow(data.now);
    setRows(data.rows);
    setPlaces(data.buildings);
    const mine = me()?.crew;
    setCrewName(data.crews.find((c) => c.id === mine)?.name ?? mine ?? undefined);
    const details = await Promise.all(data.rows.map((r) => api.GET('/api/work-orders/{code}', { params: { path: { code: r.code } } })));
    setActions(Object.fromEntries(details.flatMap((d) => (d.data !== undefined ? [[d.data.order.code, d.data.actions]] : []))));
  }, []);
  useEffect(() => void load(), [load]);
  useLive(useCallback((e: LiveMessage) => void (e.stream === 'order' || e.stream === 'reconnected' ? load() : undefined), [load]));

  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (rows === undefined) return <p>{t('console.loading')}</p>;
  const focus = props.focus;
  const sorted = focus !== null ? [...rows.filter((r) => r.code === focus), ...rows.filter((r) => r.code !== focus)] : rows;
  return (
    <section class="crew">
      <h1>{t('console.crew.title')}</h1>
      {crewName !== undefined && <p class="muted">{t('console.crew.crewName', { crew: crewName })}</p>}
      {sorted.length === 0 && <p>{t('console.crew.empty')}</p>}
      {sorted.map((r) => (
        <CrewOrder key={r.code} row={r} place={places[r.building] !== undefined ? `${places[r.building]!.community} ${places[r.building]!.name}` : r.building} now={now} focused={r.code === focus} actions={actions[r.code] ?? []} onMoved={load} />
      ))}
    </section>
  );
}

function CrewOrder(props: { row: BoardRow; place: string; now: number; focused: boolean; actions: OrderDetail['actions']; onMoved: () => Promise<void> }) {
  const { row } = props;
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const noteId = `note-${row.code}`;

  async function move(to: (typeof BUTTONS)[number]) {
    if (to === 'resolved' && note.trim() === '') return setProblem(t('console.crew.noteRequired'));
    const { data, error } = await api.POST('/api/work-orders/{code}/transitions', { params: { path: { code: row.code } }, body: { to, ...(note.trim() !== '' ? { note: note.trim() } : {}) } });
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    setProblem(undefined);
    setNote('');
    setDone(t('console.action.done', { status: t(`status.${data.status}`) }));
    await props.onMoved();
  }

  return (
    <article class={`card crew-order ${props.focused ? 'focused' : ''}`} data-code={row.code} aria-labelledby={`h-${row.code}`}>
      <h2 id={`h-${row.code}`}>
        <PriorityBadge priority={row.priority} /> {row.code}
      </h2>
      <p class="title">{row.title}</p>
      <p>
        {props.place} {row.deviceId !== null ? `· ${row.deviceId}` : ''}
      </p>
      <p>
        <StatusBadge status={row.status} /> · <Deadline row={row} now={props.now} />
      </p>
      <label for={noteId} class="sr-only">
        {t('console.order.note')}
      </label>
      <textarea id={noteId} rows={2} placeholder={t('console.crew.notePlaceholder')} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      <div class="big-buttons">
        {BUTTONS.map((b) => (
          <button type="button" class="primary big" disabled={!props.actions.includes(b)} onClick={() => void move(b)}>
            {t(`console.action.${b}`)}
          </button>
        ))}
      </div>
      {done !== undefined && <p role="status">{done}</p>}
      {problem !== undefined && <p role="alert">{problem}</p>}
    </article>
  );
}
