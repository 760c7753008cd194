/**
 * What the call-taker tells the caller when a case cannot be closed during the call: the order's
 * status, the plan, and the deadline (接诉即办: explain the situation, the handling plan and the
 * time limit). Pure; texts from the catalogue.
 */
import { t, type Lang } from '../i18n/catalogue.js';
import type { WorkOrder } from '../workorders/model.js';

const dayTime = (lang: Lang, at: number) =>
  new Date(at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

/**
 * @param linked `existing`: the order was there before the call (precall was first); `reactive`: opened by this call.
 * @param metBy what meets the deadline for this order's class (entrapment: the crew's arrival)
 */
export function callerSentence(lang: Lang, o: Pick<WorkOrder, 'code' | 'status' | 'createdAt' | 'resolveDueAt' | 'crew'>, linked: 'existing' | 'reactive', metBy: 'on-site' | 'resolved', crewName?: string): string {
  const params = {
    code: o.code,
    status: t(lang, `status.${o.status}`),
    crew: crewName ?? o.crew ?? t(lang, 'console.caller.ourCrew'),
    found: dayTime(lang, o.createdAt),
    deadline: dayTime(lang, o.resolveDueAt),
  };
  const plan = t(lang, `console.caller.plan.${o.status}`, params);
  const promise = t(lang, metBy === 'on-site' ? 'console.caller.arriveBy' : 'console.caller.resolveBy', params);
  return t(lang, linked === 'existing' ? 'console.caller.existing' : 'console.caller.reactive', { ...params, plan, promise });
}
