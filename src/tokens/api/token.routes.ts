import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { RequestContext } from '../../platform/request-context.js';
import type { AccessClaims, TokenPair } from '../service/token-types.js';
import { logoutBodySchema, refreshBodySchema, tokenPairSchema, whoamiSchema } from './schemas.js';

/** What the token routes call. */
export interface TokenRoutesDeps {
  rotateRefreshToken: (presented: string, ctx: RequestContext) => Promise<TokenPair>;
  endSession: (principal: AccessClaims, refreshToken: string | undefined, ctx: RequestContext) => Promise<void>;
  requestContext: (request: FastifyRequest) => RequestContext;
}

/** POST /v1/auth/refresh, POST /v1/auth/logout, GET /v1/auth/whoami. */
export async function tokenRoutes(app: FastifyInstance, deps: TokenRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/v1/auth/refresh', {
    schema: { tags: ['auth'], summary: 'Spend a refresh token for a new pair', body: refreshBodySchema, response: { 200: tokenPairSchema } },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return deps.rotateRefreshToken(request.body.refreshToken, deps.requestContext(request));
  });

  r.post('/v1/auth/logout', {
    schema: { tags: ['auth'], summary: 'End the session on every node', body: logoutBodySchema, security: [{ bearer: [] }] },
    preHandler: app.authenticate,
  }, async (request, reply) => {
    await deps.endSession(request.principal!, request.body?.refreshToken, deps.requestContext(request));
    return reply.code(204).send();
  });

  // The whoami body is a pure function of the verified claims, and the verified-token cache hands
  // back the same claims object for a reused token: serialise it once per token, not per request.
  const whoamiBodies = new WeakMap<AccessClaims, string>();
  r.get('/v1/auth/whoami', {
    schema: { tags: ['auth'], summary: 'Claims of the verified token, no database read', response: { 200: whoamiSchema }, security: [{ bearer: [] }] },
    preHandler: app.authenticate,
  }, (request, reply) => {
    const p = request.principal!;
    let body = whoamiBodies.get(p);
    if (body === undefined) {
      const view: { sub: string; sid: string; roles: string[]; tenant?: string; exp: string } = { sub: p.sub, sid: p.sid, roles: p.roles, exp: new Date(p.exp * 1000).toISOString() };
      if (p.tenant !== undefined) view.tenant = p.tenant;
      body = JSON.stringify(whoamiSchema.parse(view));
      whoamiBodies.set(p, body);
    }
    // Already validated against whoamiSchema and serialised: Fastify sends a string as it is.
    reply.type('application/json; charset=utf-8').send(body as never);
  });
}
