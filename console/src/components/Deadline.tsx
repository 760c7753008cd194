/** The SLA countdown of an order: time left (or overdue) to its deadline on precall's clock. */
import type { BoardRow } from '../api/client';
import { t } from '../i18n';
import { duration, when } from '../time';

export function Deadline(props: { row: Pick<BoardRow, 'resolveDueAt' | 'dueMetBy' | 'onSiteAt' | 'status'>; now: number }) {
  const { row, now } = props;
  if (row.dueMetBy === 'on-site' && row.onSiteAt !== null) return <span class="sla met">{t('console.sla.met')}</span>;
  const left = row.resolveDueAt - now;
  const soon = left < 3_600_000;
  return (
    <span class={`sla ${left < 0 ? 'over' : soon ? 'soon' : 'ok'}`} title={when(row.resolveDueAt)}>
      {left < 0 ? t('console.sla.over', { time: duration(-left) }) : t('console.sla.left', { time: duration(left) })}
    </span>
  );
}

export function PriorityBadge(props: { priority: string }) {
  return <span class={`prio ${props.priority.toLowerCase()}`}>{props.priority}</span>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`status s-${props.status}`}>{t(`status.${props.status}`)}</span>;
}
