import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { commonProblems } from '../../platform/errors/common-problems.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { AuthorizationQuestion, CheckOutcome, DecisionCaller } from '../service/check-authorization.js';
import { checkBodySchema, checkResponseSchema } from './schemas.js';

/** What the decision route calls. */
export interface AuthzRoutesDeps {
  checkAuthorization: (caller: DecisionCaller, question: AuthorizationQuestion) => Promise<CheckOutcome>;
}

/** POST /v1/authz/check (API.md "Authorization decisions"). */
export async function authzRoutes(app: FastifyInstance, deps: AuthzRoutesDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/authz/check', {
    schema: {
      tags: ['authz'], summary: 'Decide, per action, whether a principal may act on a resource', security: [{ bearer: [] }],
      body: checkBodySchema, response: { 200: checkResponseSchema },
    },
    preHandler: app.authenticate,
  }, async (request) => {
    const p = request.principal!;
    const outcome = await deps.checkAuthorization({ sub: p.sub, roles: p.roles, ...(p.tenant ? { tenant: p.tenant } : {}) }, request.body);
    if (outcome.kind === 'forbidden') throw new ProblemError(commonProblems.FORBIDDEN, { detail: 'The caller may not ask for authorization decisions.' });
    return { results: outcome.results };
  });
}
