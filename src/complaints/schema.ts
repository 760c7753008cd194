/**
 * A resident complaint as the 12345 intake (or a property hotline) hands it over. The caller's
 * phone number arrives in clear and is only ever stored masked and hashed (see phone.ts).
 */
import { z } from 'zod';

export const COMPLAINT_CATEGORIES = ['heating', 'elevator', 'charging', 'power', 'water', 'other'] as const;
export const ComplaintCategory = z.enum(COMPLAINT_CATEGORIES);
export type ComplaintCategory = z.infer<typeof ComplaintCategory>;

/** Device kind a category is about; null = not tied to one kind of device. */
export const CATEGORY_KIND: Record<ComplaintCategory, 'heat-meter' | 'elevator' | 'ebike-charger' | null> = {
  heating: 'heat-meter',
  elevator: 'elevator',
  charging: 'ebike-charger',
  power: null,
  water: null,
  other: null,
};

/** 12345 deadline class of a complaint that opens its own order (DOMAIN.md deadline table). */
export const CATEGORY_CASE: Record<ComplaintCategory, 'utility-outage' | 'general'> = {
  heating: 'utility-outage',
  power: 'utility-outage',
  water: 'utility-outage',
  elevator: 'general',
  charging: 'general',
  other: 'general',
};

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
