/**
 * Texts from the server's catalogue (GET /api/console/texts), Chinese by default, English by the
 * switch (remembered in localStorage). `t(id, params)` fills placeholders with the same `format`
 * the server uses. Order titles and descriptions are the server's too: pages ask for them in
 * `currentLang()` (`?lang=` on the board, order, list, complaint and live-stream requests).
 */
import { format } from '../../src/i18n/format.ts';

export type Lang = 'zh' | 'en';
let texts: Record<string, string> = {};
/** The chosen language is known before the texts arrive, for the requests made meanwhile (the board's prefetch). */
let lang: Lang = localStorage.getItem('precall.lang') === 'en' ? 'en' : 'zh';

export const currentLang = () => lang;

export async function loadTexts(want?: Lang): Promise<void> {
  const chosen: Lang = want ?? lang;
  const res = await fetch(`/api/console/texts?lang=${chosen}`);
  const body = (await res.json()) as { lang: Lang; texts: Record<string, string> };
  texts = body.texts;
  lang = body.lang;
  localStorage.setItem('precall.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = texts['console.app'] ?? 'precall';
}

/** A text; an id the catalogue lacks shows as the id (never blank, and easy to spot). */
export function t(id: string, params: Record<string, string | number> = {}): string {
  const template = texts[id];
  return template === undefined ? id : format(template, params);
}

export const has = (id: string) => Object.hasOwn(texts, id);

/** The ids after `prefix` of every text that has it, in catalogue order (`kind.` → the device kinds the server knows). */
export const idsWith = (prefix: string): string[] => Object.keys(texts).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));

/** Text for an API error: the catalogue's words for codes a person meets, else the server's message. */
export function errorText(e: { code: string; message: string }): string {
  const id = `console.error.${e.code}`;
  return has(id) ? t(id) : e.message;
}
