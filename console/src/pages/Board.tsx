/**
 * The dispatcher's board: the open orders by priority and deadline, SLA countdown, escalation
 * level, crew; filters by street, community, kind, status and crew. The server filters, orders
 * and counts (GET /api/board); the page asks for the first FIRST_ROWS rows of the filtered board
 * (all of them on request). New orders arrive by the live stream without a reload: each event's
 * row is placed at once, and the page is asked again shortly after to bring the counts and the
 * rows beyond the page in step. New P1 orders stand out and are announced.
 */
import { Component } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorOf, type Board as BoardData, type BoardQuery, type BoardRow } from '../api/client';
import { PriorityBadge, SlaBadge, slaView, StatusBadge } from '../components/Deadline';
import { currentLang, errorText, idsWith, t } from '../i18n';
import { useLive, useLiveState, setServerNow, type LiveMessage } from '../live';
import { Link } from '../router';

const ACTIVE = new Set(['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying']);
const RANK: Record<string, number> = { P1: 0, P2: 1, P3: 2, P4: 3 };
const byPriorityThenDeadline = (a: BoardRow, b: BoardRow) => (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9) || a.resolveDueAt - b.resolveDueAt;
/** Rows asked for and drawn at first; the rest on request. */
const FIRST_ROWS = 200;
/** After a live event, the page is asked again this much later (events in between share one request). */
const REFRESH_MS = 500;
/** `crew` filter value for the orders without a crew (the API's too). */
const NO_CREW = '-';

type Filters = { street: string; community: string; kind: string; status: string; crew: string };
const NO_FILTER: Filters = { street: '', community: '', kind: '', status: '', crew: '' };

function queryOf(f: Filters, all: boolean): BoardQuery {
  const q: BoardQuery = all ? {} : { limit: FIRST_ROWS };
  if (f.street !== '') q.street = f.street;
  if (f.community !== '') q.community = f.community;
  if (f.kind !== '') q.kind = f.kind as NonNullable<BoardQuery['kind']>;
  if (f.status !== '') q.status = f.status as NonNullable<BoardQuery['status']>;
  if (f.crew !== '') q.crew = f.crew;
  return q;
}

const matches = (r: BoardRow, f: Filters) =>
  (f.street === '' || r.street === f.street) &&
  (f.community === '' || r.community === f.community) &&
  (f.kind === '' || r.kind === f.kind) &&
  (f.status === '' || r.status === f.status) &&
  (f.crew === '' || (f.crew === NO_CREW ? r.crew === null : r.crew === f.crew));

/**
 * One live row applied to the rows on the page: replaced or inserted in board order, or taken out
 * when it left the board or the filters. A row that sorts after the last one of an incomplete page
 * belongs to the part not fetched: the next request places it.
 */
function applyRow(rows: BoardRow[], row: BoardRow, f: Filters, complete: boolean): BoardRow[] {
  const rest = rows.filter((r) => r.code !== row.code);
  if (!ACTIVE.has(row.status) || !matches(row, f)) return rest;
  const at = rest.findIndex((r) => byPriorityThenDeadline(row, r) < 0);
  if (at === -1) return complete ? [...rest, row] : rest;
  return [...rest.slice(0, at), row, ...rest.slice(at)];
}

/**
 * The first board request, started by main.tsx as the app loads (beside the texts and the
 * session) when the page is the board, so the board does not wait for them.
 */
let early: ReturnType<typeof fetchBoard> | undefined;
const fetchBoard = (query: BoardQuery) => api.GET('/api/board', { params: { query: { ...query, lang: currentLang() } } });
export const prefetchBoard = () => void (early = fetchBoard(queryOf(NO_FILTER, false)));

export function Board() {
  const [board, setBoard] = useState<BoardData | undefined>(undefined);
  const [rows, setRows] = useState<BoardRow[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [announce, setAnnounce] = useState<BoardRow[]>([]);
  const [filters, setFilters] = useState<Filters>(NO_FILTER);
  const [showAll, setShowAll] = useState(false);
  const [busy, setBusy] = useState(true);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const { now, connected } = useLiveState(board?.now);

  // What the live handler and the delayed refresh need without being made again on each change.
  const view = useRef({ filters, showAll, complete: false });
  view.current.filters = filters;
  view.current.showAll = showAll;
  /** Requests made; an answer to any but the latest is dropped. */
  const requests = useRef(0);
  /** Live rows received since the latest request was sent, applied again on its answer. */
  const since = useRef<BoardRow[]>([]);
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /**
   * Building names seen so far: each answer names only its rows' buildings, and a live row
   * brings its own; names do not change while the page is open.
   */
  const [places, setPlaces] = useState<BoardData['buildings']>({});

  const load = useCallback(async () => {
    const { filters: f, showAll: all } = view.current;
    const mine = ++requests.current;
    since.current = [];
    setBusy(true);
    const usePrefetch = early !== undefined && all === false && Object.values(f).every((v) => v === '');
    const pending = usePrefetch ? early! : fetchBoard(queryOf(f, all));
    early = undefined;
    const { data, error } = await pending;
    if (mine !== requests.current) return;
    setBusy(false);
    if (data === undefined) return setProblem(errorText(errorOf(error)));
    performance.mark('board:data');
    const complete = data.matching <= data.rows.length;
    view.current.complete = complete;
    setServerNow(data.now);
    setProblem(undefined);
    setBoard(data);
    setPlaces((prev) => ({ ...prev, ...data.buildings }));
    setRows(since.current.reduce((acc, r) => applyRow(acc, r, f, complete), data.rows));
  }, []);
  useEffect(() => void load(), [filters, showAll, load]);
  useEffect(() => () => clearTimeout(refresh.current), []);

  const onLive = useCallback(
    (e: LiveMessage) => {
      if (e.stream === 'reconnected') return void load();
      if (e.stream !== 'order') return;
      const row = e.row;
      const place = e.place;
      if (place !== undefined) setPlaces((prev) => (prev[row.building] !== undefined ? prev : { ...prev, [row.building]: place }));
      since.current.push(row);
      const { filters: f, complete } = view.current;
      setRows((prev) => applyRow(prev, row, f, complete));
      if (e.type === 'opened') {
        if (ACTIVE.has(row.status)) setBoard((b) => b && { ...b, total: b.total + 1, matching: b.matching + (matches(row, f) ? 1 : 0) });
        setFresh((prev) => new Set(prev).add(row.code));
        if (row.priority === 'P1') setAnnounce((prev) => [row, ...prev].slice(0, 3));
      }
      if (refresh.current === undefined)
        refresh.current = setTimeout(() => {
          refresh.current = undefined;
          void load();
        }, REFRESH_MS);
    },
    [load],
  );
  useLive(onLive);

  // Marks for the benchmark (bench/console.ts): when the first board was drawn.
  useEffect(() => {
    if (board !== undefined && performance.getEntriesByName('board:drawn').length === 0) performance.mark('board:drawn');
  }, [board]);

  const communities = (board?.streets ?? []).filter((s) => filters.street === '' || s.id === filters.street).flatMap((s) => s.communities);
  const place = (r: BoardRow) => {
    const b = places[r.building];
    const where = b !== undefined ? `${b.community} ${b.name}` : r.building;
    return r.port !== null ? `${where} · ${t('console.order.port', { port: r.port })}` : where;
  };
  const crewName = (id: string | null) => (id === null ? t('console.filter.none') : (board?.crews.find((c) => c.id === id)?.name ?? id));
  const set = (k: keyof Filters) => (e: Event) => {
    const next = { ...filters, [k]: (e.currentTarget as HTMLSelectElement).value, ...(k === 'street' ? { community: '' } : {}) };
    setFilters(next);
    // At once, the rows already here that the new filters keep; the server's answer follows.
    setRows((prev) => prev.filter((r) => matches(r, next)));
  };

  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (board === undefined) return <p>{t('console.loading')}</p>;
  const visible = showAll ? rows : rows.slice(0, FIRST_ROWS);

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
            <option value={NO_CREW}>{t('console.filter.none')}</option>
          </select>
        </label>
      </form>
      <p class="count">{t('console.board.count', { shown: board.matching, total: board.total })}</p>
      {rows.length === 0 ? (
        <p class="empty">{t('console.board.empty')}</p>
      ) : (
        <table class="orders" aria-busy={busy}>
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
            {visible.map((r) => {
              const sla = slaView(r, now);
              return <Row key={r.code} row={r} fresh={fresh.has(r.code)} place={place(r)} crew={crewName(r.crew)} sla={sla.text} slaClass={sla.cls} />;
            })}
          </tbody>
        </table>
      )}
      {!showAll && board.matching > visible.length && (
        <button type="button" onClick={() => setShowAll(true)}>
          {t('console.board.showAll', { total: board.matching })}
        </button>
      )}
    </section>
  );
}

type RowProps = { row: BoardRow; fresh: boolean; place: string; crew: string; sla: string; slaClass: string };

const sameRow = (a: BoardRow, b: BoardRow) => a === b || (Object.keys(a) as (keyof BoardRow)[]).every((k) => a[k] === b[k]);

/**
 * One order on the board, drawn again only when what it shows changed: the clock, the live
 * stream's state and every live event re-render the board, and diffing hundreds of unchanged
 * rows each time kept the page busy for a tenth of a second and more.
 */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return !(sameRow(p.row, next.row) && p.fresh === next.fresh && p.place === next.place && p.crew === next.crew && p.sla === next.sla && p.slaClass === next.slaClass);
  }

  override render() {
    const { row: r, fresh, place, crew, sla, slaClass } = this.props;
    return (
      <tr data-code={r.code} data-status={r.status} class={`${fresh ? 'fresh' : ''} ${r.priority === 'P1' ? 'p1' : ''}`}>
        <td>
          <PriorityBadge priority={r.priority} />
          {fresh && <span class="badge-new">{t('console.new')}</span>}
        </td>
        <td>
          <Link href={`/orders/${r.code}`} class="code">
            {r.code}
          </Link>
          <div class="title">{r.title}</div>
        </td>
        <td>{place}</td>
        <td>
          <StatusBadge status={r.status} />
        </td>
        <td>
          <SlaBadge view={{ text: sla, cls: slaClass }} due={r.resolveDueAt} />
        </td>
        <td>{t(`console.escalation.${r.escalationLevel}`)}</td>
        <td>{crew}</td>
      </tr>
    );
  }
}
