/** What the call-taker reads out, what a crew's chat message carries, and what the order page may offer. */
import { describe, expect, it } from 'vitest';
import { callerSentence } from '../../../src/complaints/caller.js';
import { notificationText } from '../../../src/workorders/delivery/message.js';
import { wecomBody } from '../../../src/workorders/delivery/webhook.js';
import { actionsFor } from '../../../src/workorders/permissions.js';
import type { WorkOrder, WorkOrderEvent } from '../../../src/workorders/model.js';

const order = { code: 'WO-20261201-0007', status: 'acknowledged', createdAt: Date.UTC(2026, 11, 1, 1, 30), resolveDueAt: Date.UTC(2026, 11, 2, 1, 30), crew: 'heat-crew' } as const;

describe('callerSentence', () => {
  it('says when precall found it, who handles it, the status, the plan and the deadline (Beijing time)', () => {
    expect(callerSentence('zh', order, 'existing', 'resolved', '供热抢修队')).toBe(
      '您好，您反映的问题我们已于12月1日 09:30发现，并已派供热抢修队处理（工单号 WO-20261201-0007，当前状态：已接单）。维修人员已接单，正在赶往现场。预计 12月2日 09:30 前处理完毕。办结后我们会回访您。',
    );
    expect(callerSentence('en', { ...order, status: 'open' }, 'reactive', 'on-site')).toBe(
      'Your report is registered (order WO-20261201-0007, now open) and heat-crew has it. The crew is taking the order now. Rescue will be there by 2 December at 09:30. We will call you back once it is done.',
    );
  });
});

describe('crew links in messages', () => {
  const e = { type: 'opened', at: 0, order: { code: 'WO-1', title: '暖气漏水', priority: 'P2', status: 'open', street: 's', community: 'c', building: 'b', deviceId: 'hm-1', resolveDueAt: 0, crew: 'heat-crew', description: 'd' } } as unknown as WorkOrderEvent;
  it('a WeCom message ends with the link to open the order; without PUBLIC_URL there is none', () => {
    const body = JSON.parse(wecomBody('zh', e, 'https://precall.example.org/auth/link/WO-1?t=abc.def')) as { markdown: { content: string } };
    expect(body.markdown.content.split('\n').at(-1)).toBe('[打开工单处理](https://precall.example.org/auth/link/WO-1?t=abc.def)');
    expect(notificationText('zh', e).markdown).not.toContain('打开工单处理');
  });
});

describe('actionsFor', () => {
  const o = (status: WorkOrder['status'], crew = 'lift-crew') => ({ status, crew });
  it('is the state machine narrowed by role and crew', () => {
    expect(actionsFor({ id: 'li', role: 'dispatcher' }, o('open'))).toEqual(['acknowledged', 'verifying', 'cancelled']);
    expect(actionsFor({ id: 'z', role: 'crew', crew: 'lift-crew' }, o('open'))).toEqual(['acknowledged']);
    expect(actionsFor({ id: 'z', role: 'crew', crew: 'lift-crew' }, o('acknowledged'))).toEqual(['on-site', 'resolved']);
    expect(actionsFor({ id: 'z', role: 'crew', crew: 'heat-crew' }, o('open'))).toEqual([]);
    expect(actionsFor({ id: 'w', role: 'call-taker' }, o('open'))).toEqual([]);
    expect(actionsFor({ id: 'v', role: 'viewer' }, o('open'))).toEqual([]);
  });
});
