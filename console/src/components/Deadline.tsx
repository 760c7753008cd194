/** The SLA countdown of an order: time left (or overdue) to its deadline on precall's clock. */
import type { BoardRow } from '../api/client';
import { t } from '../i18n';
import { duration, when } from '../time';

type DueRow = Pick<BoardRow, 'resolveDueAt' | 'dueMetBy' | 'onSiteAt' | 'status'>;

/** What the countdown shows at `now`: its words and its class (met, ok, soon, over). */
export function slaView(row: DueRow, now: number): { text: string; cls: string } {
  if (row.dueMetBy === 'on-site' && row.onSiteAt !== null) return { text: t('console.sla.met'), cls: 'met' };
  const left = row.resolveDueAt - now;
  if (left < 0) return { text: t('console.sla.over', { time: duration(-left) }), cls: 'over' };
  return { text: t('console.sla.left', { time: duration(left) }), cls: left < 3_600_000 ? 'soon' : 'ok' };
}

/** The countdown drawn from a `slaView`; the deadline itself in the tooltip. */
export function SlaBadge(props: { view: { text: string; cls: string }; due: number }) {
  return (
    <span class={`sla ${props.view.cls}`} title={props.view.cls === 'met' ? undefined : when(props.due)}>
      {props.view.text}
    </span>
  );
}

export function Deadline(props: { row: DueRow; now: number }) {
  return <SlaBadge view={slaView(props.row, props.now)} due={props.row.resolveDueAt} />;
}

export function PriorityBadge(props: { priority: string }) {
  return <span class={`prio ${props.priority.toLowerCase()}`}>{props.priority}</span>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`status s-${props.status}`}>{t(`status.${props.status}`)}</span>;
}
