/**
 * MQTT topic-filter algebra (MQTT 3.1.1 section 4.7), pure functions on `/`-separated levels:
 * does a filter match a topic, does one filter cover another, can two filters match a common
 * topic. Used for operator allow/deny lists.
 */

/** Whether `filter` (may hold `+` and `#`) matches the concrete `topic`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Wildcards at the first level do not match topics starting with `$` [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // `#` also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether every topic that `inner` matches is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  if (inner.startsWith('$') && (o[0] === '+' || o[0] === '#')) return false;
  for (let i = 0; i < o.length; i++) {
    const level = o[i];
    if (level === '#') return true;
    if (i >= n.length) return false;
    const other = n[i];
    if (other === '#') return false; // inner reaches deeper than a non-`#` outer level
    if (level === '+') continue; // `+` covers a literal or another `+`
    if (other === '+' || other !== level) return false;
  }
  return o.length === n.length;
}

/** Whether some topic is matched by both filters. */
export function filtersIntersect(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  const xDollar = a.startsWith('$');
  const yDollar = b.startsWith('$');
  // A `$` first level is only reachable by a literal in the other filter [MQTT-4.7.2-1].
  if (xDollar && (y[0] === '+' || y[0] === '#')) return false;
  if (yDollar && (x[0] === '+' || x[0] === '#')) return false;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return false;
    if (p === '+' || q === '+' || p === q) continue;
    return false;
  }
  return true;
}
