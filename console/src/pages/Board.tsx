/**
 * The dispatcher's board: every open order by priority and deadline, SLA countdown, escalation
 * level, crew; filters by street, community, kind, status and crew. New orders arrive by the live
 * stream without a reload; new P1 orders stand out and are announced.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorOf, type Board as BoardData, type BoardRow } from '../api/client';
import { Deadline, PriorityBadge, StatusBadge } from '../components/Deadline';
import { errorText, idsWith, t } from '../i18n';
import { useLive, useLiveState, setServerNow, type LiveMessage } from '../live';
import { Link } from '../router';

const ACTIVE = new Set(['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying']);
const RANK: Record<string, number> = { P1: 0, P2: 1, P3: 2, P4: 3 };
const byPriorityThenDeadline = (a: BoardRow, b: BoardRow) => (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9) || a.resolveDueAt - b.resolveDueAt;
/** Rows drawn at first; the rest on request (the filters always see all). */
const FIRST_ROWS = 200;

type Filters = { street: string; community: string; kind: string; status: string; crew: string };
const NO_FILTER: Filters = { street: '', community: '', kind: '', status: '', crew: '' };

/**
 * The first board request, started by main.tsx as the app loads (beside the texts and the
 * session) when the page is the board, so a large board does not wait for them.
 */
let early: ReturnType<typeof fetchBoard> | undefined;
const fetchBoard = () => api.GET('/api/board');
export const prefetchBoard = () => void (early = fetchBoard());

export function Board() {
  const [board, setBoard] = useState<BoardData | undefined>(undefined);
  const [rows, setRows] = useState<Map<string, BoardRow>>(new Map());
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [announce, setAnnounce] = useState<BoardRow[]>([]);
  const [filters, setFilters] = useState<Filters>(NO_FILTER);
  const [showAll, setShowAll] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const { now, connected } = useLiveState(board?.now);

  const load = useCallback(async () => {
    const pending = early ?? fetchBoard();
    early = undefined;
    const { data, error } = await pending;
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    performance.mark('board:data');
    setServerNow(data.now);
    setBoard(data);
    setRows(new Map(data.rows.map((r) => [r.code, r])));
  }, []);
  useEffect(() => void load(), [load]);

  const onLive = useCallback(
    (e: LiveMessage) => {
      if (e.stream === 'reconnected') return void load();
      if (e.stream !== 'order') return;
      const row = e.row;
      setRows((prev) => {
        const next = new Map(prev);
        if (ACTIVE.has(row.status)) next.set(row.code, row);
        else next.delete(row.code);
        return next;
      });
      if (e.type === 'opened') {
        setFresh((prev) => new Set(prev).add(row.code));
        if (row.priority === 'P1') setAnnounce((prev) => [row, ...prev].slice(0, 3));
      }
    },
    [load],
  );
  useLive(onLive);

  // Marks for the benchmark (bench/console.ts): when the first full board was drawn.
  useEffect(() => {
    if (board !== undefined && performance.getEntriesByName('board:drawn').length === 0) performance.mark('board:drawn');
  }, [board]);

  const all = useMemo(() => [...rows.values()].sort(byPriorityThenDeadline), [rows]);
  const shown = useMemo(
    () =>
      all.filter(
        (r) =>
          (filters.street === '' || r.street === filters.street) &&
          (filters.community === '' || r.community === filters.community) &&
          (filters.kind === '' || r.kind === filters.kind) &&
          (filters.status === '' || r.status === filters.status) &&
          (filters.crew === '' || (filters.crew === '-' ? r.crew === null : r.crew === filters.crew)),
      ),
    [all, filters],
  );
  const communities = (board?.streets ?? []).filter((s) => filters.street === '' || s.id === filters.street).flatMap((s) => s.communities);
  const place = (r: BoardRow) => {
    const b = board?.buildings[r.building];
    const where = b !== undefined ? `${b.community} ${b.name}` : r.building;
    return r.port !== null ? `${where} · ${t('console.order.port', { port: r.port })}` : where;
  };
  const crewName = (id: string | null) => (id === null ? t('console.filter.none') : (board?.crews.find((c) => c.id === id)?.name ?? id));
  const set = (k: keyof Filters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLSelectElement).value, ...(k === 'street' ? { community: '' } : {}) });

  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (board === undefined) return <p>{t('console.loading')}</p>;
  const visible = showAll ? shown : shown.slice(0, FIRST_ROWS);

  return (
    <section class="board">
      <div class="page-head">
        <h1>{t('console.board.title')}</h1>
        <span class={`live ${connected ? 'on' : 'off'}`} role="status">
          {t(connected ? 'console.live.on' : 'console.live.off')}
        </span>
      </div>
      <div class="alerts" aria-live="assertive">
        {announce.map((r) => (
          <p class="alert-p1">
            <PriorityBadge priority={r.priority} /> <Link href={`/orders/${r.code}`}>{r.code}</Link> {place(r)}：{r.title}
          </p>
        ))}
      </div>
      <form class="filters" aria-label={t('console.board.filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('console.filter.street')}
          <select value={filters.street} onChange={set('street')}>
            <option value="">{t('console.filter.all')}</option>
            {board.streets.map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('console.filter.community')}
          <select value={filters.community} onChange={set('community')}>
            <option value="">{t('console.filter.all')}</option>
            {communities.map((c) => (
              <option value={c.id}>{c.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('console.filter.kind')}
          <select value={filters.kind} onChange={set('kind')}>
            <option value="">{t('console.filter.all')}</option>
            {idsWith('kind.').map((k) => (
              <option value={k}>{t(`kind.${k}`)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('console.filter.status')}
          <select value={filters.status} onChange={set('status')}>
            <option value="">{t('console.filter.all')}</option>
            {[...ACTIVE].map((s) => (
              <option value={s}>{t(`status.${s}`)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('console.filter.crew')}
          <select value={filters.crew} onChange={set('crew')}>
            <option value="">{t('console.filter.all')}</option>
            {board.crews.map((c) => (
              <option value={c.id}>{c.name}</option>
            ))}
            <option value="-">{t('console.filter.none')}</option>
          </select>
        </label>
      </form>
      <p class="count">{t('console.board.count', { shown: shown.length, total: all.length })}</p>
      {shown.length === 0 ? (
        <p class="empty">{t('console.board.empty')}</p>
      ) : (
        <table class="orders">
          <caption class="sr-only">{t('console.board.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.col.priority')}</th>
              <th scope="col">{t('console.col.order')}</th>
              <th scope="col">{t('console.col.place')}</th>
              <th scope="col">{t('console.col.status')}</th>
              <th scope="col">{t('console.col.deadline')}</th>
              <th scope="col">{t('console.col.escalation')}</th>
              <th scope="col">{t('console.col.crew')}</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((r) => (
              <tr key={r.code} data-code={r.code} data-status={r.status} class={`${fresh.has(r.code) ? 'fresh' : ''} ${r.priority === 'P1' ? 'p1' : ''}`}>
                <td>
                  <PriorityBadge priority={r.priority} />
                  {fresh.has(r.code) && <span class="badge-new">{t('console.new')}</span>}
                </td>
                <td>
                  <Link href={`/orders/${r.code}`} class="code">
                    {r.code}
                  </Link>
                  <div class="title">{r.title}</div>
                </td>
                <td>{place(r)}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <Deadline row={r} now={now} />
                </td>
                <td>{t(`console.escalation.${r.escalationLevel}`)}</td>
                <td>{crewName(r.crew)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!showAll && shown.length > FIRST_ROWS && (
        <button type="button" onClick={() => setShowAll(true)}>
          {t('console.board.showAll', { total: shown.length })}
        </button>
      )}
    </section>
  );
}
