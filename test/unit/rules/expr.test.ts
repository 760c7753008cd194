import { describe, expect, it } from 'vitest';
import { Condition, elementArray, fieldsOf, readPath, test as holds } from '../../../src/rules/expr.js';

const root = { deltaTK: 2.5, status: { valve: 'open' }, faults: ['entrapment'], speedMs: 1.3, ratedSpeedMs: 1, ports: [{ tempC: 81 }] };

describe('condition language', () => {
  it('reads nested, element and missing paths', () => {
    expect(readPath({ root }, 'status.valve')).toBe('open');
    expect(readPath({ root, element: root.ports[0] }, 'ports[*].tempC')).toBe(81);
    expect(readPath({ root }, 'status.nope.deeper')).toBeUndefined();
  });

  it('compares, combines and treats a missing field as false', () => {
    const c = (x: unknown) => Condition.parse(x);
    expect(holds(c({ field: 'deltaTK', op: '<', value: 3 }), { root })).toBe(true);
    expect(holds(c({ field: 'deltaTK', op: '<', value: 2 }), { root })).toBe(false);
    expect(holds(c({ field: 'faults', op: 'contains', value: 'entrapment' }), { root })).toBe(true);
    expect(holds(c({ field: 'faults', op: 'not-contains', value: 'entrapment' }), { root })).toBe(false);
    expect(holds(c({ field: 'missing', op: 'not-contains', value: 'x' }), { root })).toBe(false);
    expect(holds(c({ field: 'status.valve', op: 'in', value: ['open', 'abnormal'] }), { root })).toBe(true);
    expect(holds(c({ all: [{ field: 'deltaTK', op: '<', value: 3 }, { field: 'status.valve', op: '==', value: 'closed' }] }), { root })).toBe(false);
    expect(holds(c({ any: [{ field: 'deltaTK', op: '<', value: 3 }, { field: 'status.valve', op: '==', value: 'closed' }] }), { root })).toBe(true);
    expect(holds(c({ not: { field: 'deltaTK', op: '<', value: 3 } }), { root })).toBe(false);
    expect(holds(c({ field: 'speedMs', op: '>', ref: 'ratedSpeedMs', factor: 1.2 }), { root })).toBe(true);
    expect(holds(c({ field: 'speedMs', op: '>', ref: 'ratedSpeedMs', factor: 1.4 }), { root })).toBe(false);
  });

  it('refuses malformed conditions with the field path', () => {
    const r = Condition.safeParse({ all: [{ field: 'x', op: '<', value: 'high' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.some((i) => i.path.join('.') === 'all.0.value')).toBe(true);
    expect(Condition.safeParse({ field: 'a[*].b[*].c', op: '==', value: 1 }).success).toBe(false);
    expect(Condition.safeParse({ field: 'x', op: 'in', value: 1 }).success).toBe(false);
    expect(Condition.safeParse({ field: 'x', op: '>', value: 1, ref: 'y' }).success).toBe(false);
  });

  it('lists fields and finds the one iterated array', () => {
    const c = Condition.parse({ all: [{ field: 'ports[*].tempC', op: '>', value: 1 }, { field: 'speedMs', op: '>', ref: 'ratedSpeedMs' }] });
    expect(fieldsOf(c)).toEqual(['ports[*].tempC', 'speedMs', 'ratedSpeedMs']);
    expect(elementArray(fieldsOf(c))).toEqual({ array: 'ports' });
    expect(elementArray(['a[*].x', 'b[*].y']).error).toMatch(/more than one array/);
  });
});
