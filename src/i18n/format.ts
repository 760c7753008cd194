/**
 * `{name}` placeholders filled from params; a missing param stays visible as `{name}`. Its own
 * module so that the browser console uses the same function on the texts the server sends.
 */
export function format(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}
