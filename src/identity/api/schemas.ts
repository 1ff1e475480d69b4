import { z } from 'zod';

// Control characters in a display name end up in logs, e-mails and admin UIs: refuse them.
const NO_CONTROL_CHARS = /^[^\p{Cc}]*$/u;

/** The `user` object of API.md. */
export const userSchema = z.strictObject({
  id: z.string(),
  email: z.string(),
  name: z.string().optional(),
  roles: z.array(z.string()),
  tenant: z.string().optional(),
  mfaEnabled: z.boolean(),
  createdAt: z.string(),
});

/** POST /v1/auth/register body; strict, so `roles` or `role` in it is a 400. */
export const registerBodySchema = z.strictObject({
  email: z.email().max(254),
  // The policy counts code points and applies its own limits; this only bounds the work of reading it.
  password: z.string().min(1).max(1024),
  name: z.string().trim().min(1).max(200).regex(NO_CONTROL_CHARS, 'must not contain control characters').optional(),
});

/** POST /v1/auth/login body. */
export const loginBodySchema = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(1024),
  totp: z.string().regex(/^\d{6,8}$/).optional(),
});

/** `{user}` responses. */
export const userEnvelopeSchema = z.strictObject({ user: userSchema });
