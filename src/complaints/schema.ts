/**
 * A resident complaint as the 12345 intake (or a property hotline) hands it over. The caller's
 * phone number arrives in clear and is only ever stored masked and hashed (see phone.ts).
 */
import { z } from 'zod';
import { kindCategories, type DeviceKind } from '../../devices/index.js';
import type { ComplaintCategorySpec } from '../../devices/define.js';

/**
 * Categories not about one kind of device, with their 12345 deadline class (DOMAIN.md deadline
 * table). A kind may claim one of these (devices/<kind>/index.ts `complaints`): its complaints
 * then link to that kind's orders.
 */
const GENERAL_CATEGORIES: Record<string, ComplaintCategorySpec> = {
  power: { caseClass: 'utility-outage', name: { zh: '停电', en: 'power' } },
  water: { caseClass: 'utility-outage', name: { zh: '停水', en: 'water' } },
  other: { caseClass: 'general', name: { zh: '其他', en: 'other' } },
};

/** Every category: the kinds' own first (in kind order), then the general ones no kind claims. */
export const COMPLAINT_CATEGORIES = [...new Set([...kindCategories.keys(), ...Object.keys(GENERAL_CATEGORIES)])] as [string, ...string[]];
export const ComplaintCategory = z.enum(COMPLAINT_CATEGORIES);
export type ComplaintCategory = z.infer<typeof ComplaintCategory>;

/** Device kind a category is about; null = not tied to one kind of device. */
export function categoryKind(category: string): DeviceKind | null {
  return kindCategories.get(category)?.kind ?? null;
}

/** 12345 deadline class of a complaint that opens its own order. */
export function categoryCase(category: string): 'utility-outage' | 'general' {
  return (kindCategories.get(category) ?? GENERAL_CATEGORIES[category])?.caseClass ?? 'general';
}

/** Names of the general categories, for the i18n catalogue (`category.<id>`); the kinds' come with their texts. */
export const generalCategoryNames = Object.fromEntries(Object.entries(GENERAL_CATEGORIES).filter(([id]) => !kindCategories.has(id)).map(([id, c]) => [`category.${id}`, c.name]));

export const ComplaintInput = z
  .object({
    channel: z.string().min(1).max(40).default('12345').meta({ description: 'Where the call came in: 12345, property hotline, WeChat…' }),
    receivedAt: z.coerce.number().int().positive().meta({ description: 'When the call was received, epoch ms' }),
    community: z.string().min(1).max(64),
    building: z.string().min(1).max(64),
    unit: z.string().max(64).optional().meta({ description: 'Unit / flat, e.g. "2单元 601"' }),
    category: ComplaintCategory,
    text: z.string().min(1).max(4000),
    callerPhone: z
      .string()
      .regex(/^\+?[0-9 -]{5,20}$/, 'digits, optionally with +, spaces or dashes')
      .optional()
      .meta({ description: 'Caller phone; stored only masked (138****1234) and as an HMAC, never in clear' }),
    /** Risk to life or property reported by the caller (smoke, someone trapped): 2-hour class. */
    urgent: z.boolean().default(false),
    deviceId: z.string().max(64).optional(),
  })
  .strict();
export type ComplaintInput = z.input<typeof ComplaintInput>;
export type ComplaintParsed = z.infer<typeof ComplaintInput>;
