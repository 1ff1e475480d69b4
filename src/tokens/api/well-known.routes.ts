import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../service/key-ring.js';

/** What the discovery routes need. */
export interface WellKnownDeps { keyRing: KeyRing; issuer: string; jwksMaxAgeSeconds: number }

/** GET /.well-known/jwks.json and /.well-known/openid-configuration. */
export async function wellKnownRoutes(app: FastifyInstance, deps: WellKnownDeps): Promise<void> {
  app.get('/.well-known/jwks.json', { schema: { tags: ['discovery'], summary: 'Keys that may verify a live access token' } }, async (_request, reply) => {
    // Short max-age: verifiers must see a new key within its activation delay.
    reply.header('cache-control', `public, max-age=${deps.jwksMaxAgeSeconds}`);
    return { keys: deps.keyRing.publishedKeys().map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  });
  app.get('/.well-known/openid-configuration', { schema: { tags: ['discovery'], summary: 'Issuer metadata' } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    const algs = deps.keyRing.algorithms();
    return {
      issuer: deps.issuer,
      jwks_uri: `${deps.issuer}/.well-known/jwks.json`,
      token_endpoint: `${deps.issuer}/v1/auth/refresh`,
      grant_types_supported: ['refresh_token'],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: algs,
      access_token_signing_alg_values_supported: algs,
    };
  });
}
