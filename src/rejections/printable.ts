/**
 * Text from the wire (topics, ids, field names) as safe to put in a log line or a refusal:
 * control characters (C0, DEL, C1), quotes and backslashes escaped, so a message stays one
 * readable line and cannot fake another; cut at `max` characters.
 */
export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f"\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
