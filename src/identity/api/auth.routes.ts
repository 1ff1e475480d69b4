import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemError } from '../../platform/errors/problem.js';
import type { RequestContext } from '../../platform/request-context.js';
import { tokenPairSchema, tokenProblems, type TokenPair } from '../../tokens/index.js';
import type { LoginInput } from '../service/login.js';
import type { RegisterInput } from '../service/register-user.js';
import { toUserView } from '../service/user-view.js';
import type { UserRecord } from '../store/user-store.js';
import { loginBodySchema, registerBodySchema, userEnvelopeSchema } from './schemas.js';

/** What the identity routes call. */
export interface AuthRoutesDeps {
  registerUser: (input: RegisterInput, ctx: RequestContext) => Promise<UserRecord>;
  login: (input: LoginInput, ctx: RequestContext) => Promise<TokenPair>;
  findUser: (id: string) => Promise<UserRecord | undefined>;
  requestContext: (request: FastifyRequest) => RequestContext;
}

/** POST /v1/auth/register, POST /v1/auth/login, GET /v1/auth/me. */
export async function authRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/v1/auth/register', {
    schema: { tags: ['auth'], summary: 'Create an account (role user)', body: registerBodySchema, response: { 201: userEnvelopeSchema } },
  }, async (request, reply) => {
    const user = await deps.registerUser(request.body, deps.requestContext(request));
    return reply.code(201).send({ user: toUserView(user) });
  });

  r.post('/v1/auth/login', {
    schema: { tags: ['auth'], summary: 'Password login; returns a token pair', body: loginBodySchema, response: { 200: tokenPairSchema } },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return deps.login(request.body, deps.requestContext(request));
  });

  r.get('/v1/auth/me', {
    schema: { tags: ['auth'], summary: 'The account behind the token', response: { 200: userEnvelopeSchema }, security: [{ bearer: [] }] },
    preHandler: app.authenticate,
  }, async (request) => {
    const user = await deps.findUser(request.principal!.sub);
    // A deleted account's tokens are as dead as a revoked session's.
    if (!user || user.lockedAt) throw new ProblemError(tokenProblems.INVALID_TOKEN);
    return { user: toUserView(user) };
  });
}
