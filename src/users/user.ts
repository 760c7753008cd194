/**
 * Console users: people who sign in to the browser console. Each has one role from the same
 * role model as API keys (src/workorders/permissions.ts); a crew user is bound to one crew id.
 * Passwords are kept only as scrypt hashes (src/registry/secrets.ts).
 */
import { z } from 'zod';
import { ROLES } from '../workorders/permissions.js';

export const Username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, 'use 2–32 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit');

/** Minimum password length; longer passphrases are better than clever short ones. */
export const MIN_PASSWORD_LENGTH = 10;
export const Password = z.string().min(MIN_PASSWORD_LENGTH, `use at least ${MIN_PASSWORD_LENGTH} characters`).max(1024);

export const User = z
  .object({
    username: Username,
    role: z.enum(ROLES),
    /** For role crew: the crew id (WORKORDERS_FILE crews); null otherwise. */
    crew: z.string().min(1).nullable(),
    /** `scrypt$N$r$p$salt$hash`. */
    passwordHash: z.string().startsWith('scrypt$'),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .refine((u) => (u.role === 'crew') === (u.crew !== null), { message: 'a crew user needs a crew id, and only crew users have one', path: ['crew'] });
export type User = z.infer<typeof User>;

/** What a person may see about a user (never the hash). */
export type UserView = Omit<User, 'passwordHash'>;
