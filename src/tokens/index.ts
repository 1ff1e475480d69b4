/** Public surface of the tokens module. */
export { authenticatePlugin, bearerToken } from './api/authenticate.js';
export { tokenPairSchema } from './api/schemas.js';
export { tokenRoutes } from './api/token.routes.js';
export { wellKnownRoutes } from './api/well-known.routes.js';
export { tokenProblems } from './problems.js';
export { createEndSession } from './service/end-session.js';
export { createKeyRing, type KeyRing, type SigningAlgorithm, SigningKeyUnreadableError } from './service/key-ring.js';
export { createRevocationReconciler, createSessionRevocations, type RevocationFallback, type SessionRevocations } from './service/revocation.js';
export { createRotateRefreshToken } from './service/rotate-refresh-token.js';
export { createSignAccessToken } from './service/sign-access-token.js';
export { createStartSession } from './service/start-session.js';
export type { AccessClaims, SubjectReader, TokenOptions, TokenPair, TokenSubject, TokenTxStores } from './service/token-types.js';
export { createAccessTokenVerifier, TokenRejectedError } from './service/verify-access-token.js';
export type { SessionStore } from './store/session-store.js';
export { createKyselySessionStore } from './store/kysely-session-store.js';
export type { SigningKeyStore } from './store/signing-key-store.js';
export { createKyselySigningKeyStore } from './store/kysely-signing-key-store.js';
