import { z } from 'zod';

/** Token pair of API.md. */
export const tokenPairSchema = z.strictObject({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds until the access token expires'),
  refreshToken: z.string(),
});

/** POST /v1/auth/refresh body. */
export const refreshBodySchema = z.strictObject({ refreshToken: z.string().min(1).max(512) });

/** POST /v1/auth/logout body (optional). */
export const logoutBodySchema = z.strictObject({ refreshToken: z.string().min(1).max(512).optional() }).nullish();

/** GET /v1/auth/whoami response. */
export const whoamiSchema = z.strictObject({
  sub: z.string(),
  sid: z.string(),
  roles: z.array(z.string()),
  tenant: z.string().optional(),
  exp: z.string().describe('ISO 8601 expiry of the access token'),
});

/** GET /.well-known/jwks.json response. */
export const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
