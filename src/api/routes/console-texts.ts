/** `GET /api/console/texts?lang=zh|en`: the console's texts from the one catalogue (src/i18n). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { catalogue, type Lang } from '../../i18n/catalogue.js';

/** Catalogue prefixes the console shows: its own texts and the names of statuses, kinds, categories, parties. */
const PREFIXES = ['console.', 'status.', 'kind.', 'category.', 'party.'];

export function consoleTexts(lang: Lang): Record<string, string> {
  return Object.fromEntries(Object.entries(catalogue).flatMap(([id, e]) => (PREFIXES.some((p) => id.startsWith(p)) ? [[id, e[lang]]] : [])));
}

export function consoleTextRoutes(): FastifyPluginAsyncZod {
  const cached = { zh: consoleTexts('zh'), en: consoleTexts('en') };
  return async (app) => {
    app.get(
      '/api/console/texts',
      {
        schema: {
          tags: ['console'],
          summary: 'Texts of the console in one language (no sign-in needed: the sign-in page uses them)',
          querystring: z.object({ lang: z.enum(['zh', 'en']).default('zh') }),
          response: { 200: z.object({ lang: z.enum(['zh', 'en']), texts: z.record(z.string(), z.string()) }) },
        },
      },
      async (req, reply) => {
        void reply.header('cache-control', 'no-cache');
        return { lang: req.query.lang, texts: cached[req.query.lang] };
      },
    );
  };
}
