/** Query-string pieces shared by list routes. */
import { z } from 'zod';

/** Page size: 1–1000, default 100. */
export const Limit = z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'Most items returned (1–1000, default 100).' });
/** Items skipped: default 0. */
export const Offset = z.coerce.number().int().min(0).default(0).meta({ description: 'Items skipped (default 0).' });

/**
 * The reader's language for order titles and descriptions (src/workorders/order-text.ts);
 * without it they are as stored, in PRECALL_LANG.
 */
export const TextLang = z.enum(['zh', 'en']).optional().meta({ description: 'Language of order titles and descriptions made from the catalogue (rule orders); default: as written, in PRECALL_LANG' });
