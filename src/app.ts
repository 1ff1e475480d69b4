import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, validatorCompiler } from 'fastify-type-provider-zod';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { adminRoutes } from './admin/index.js';
import { authRoutes } from './identity/index.js';
import { commonProblems } from './platform/errors/common-problems.js';
import { errorHandlerPlugin } from './platform/errors/error-handler.js';
import { lazyChildLogger } from './platform/http/lazy-child-logger.js';
import { computeSecurityHeaders } from './platform/http/security-headers.js';
import { zodResponseSerializerCompiler } from './platform/http/zod-response-serializer.js';
import { type ProblemDefinition, problemType } from './platform/errors/problem.js';
import { opsRoutes } from './platform/observability/ops.routes.js';
import { authzRoutes } from './policy/index.js';
import type { RequestContext } from './platform/request-context.js';
import type { Registry } from './registry.js';
import { authenticatePlugin, tokenRoutes, wellKnownRoutes } from './tokens/index.js';

// An incoming x-request-id is kept only if it is a short, plain token: it lands in logs and audit rows.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

// Node's parser errors, raised before a request object exists; everything else is a 400.
const CLIENT_ERRORS: Record<string, ProblemDefinition> = {
  HPE_HEADER_OVERFLOW: commonProblems.HEADERS_TOO_LARGE,
  ERR_HTTP_REQUEST_TIMEOUT: commonProblems.REQUEST_TIMEOUT,
};

function writeClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const problem = (error.code ? CLIENT_ERRORS[error.code] : undefined) ?? commonProblems.MALFORMED_REQUEST;
  const body = JSON.stringify({ type: problemType(problem.code), title: problem.title, status: problem.status, requestId: randomUUID() });
  socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, requestId: request.id };
}

/** Builds the HTTP application over a registry; never listens (tests inject, main listens). */
export async function buildApp(registry: Registry): Promise<FastifyInstance> {
  const { config, metrics } = registry;
  const app = Fastify({
    loggerInstance: registry.logger as FastifyBaseLogger,
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.http.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // A hop count is valid at runtime (proxy-addr) though Fastify's types omit it.
    trustProxy: config.http.trustProxy as boolean | string,
    genReqId: requestId,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Slow clients (slowloris): headers must arrive within headersTimeout; Node only checks every
    // connectionsCheckingInterval (30 s by default), so check every second. 16 KiB of headers at most.
    http: { headersTimeout: config.http.headersTimeoutMs, connectionsCheckingInterval: 1000, maxHeaderSize: 16 * 1024 },
    // Errors Node raises before a request exists (oversized headers, timeouts, garbage) still answer problem+json.
    clientErrorHandler: writeClientError,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(zodResponseSerializerCompiler);

  // JSON only: text/plain is the content type any web page may POST cross-site without a CORS preflight.
  app.removeAllContentTypeParsers();
  // A POST with `Content-Type: application/json` and no body (e.g. logout) is an absent body, not an error.
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    return defaultJsonParser(request, text, done);
  });

  const securityHeaders = computeSecurityHeaders({ hstsMaxAgeSeconds: 31_536_000 });
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(securityHeaders);
    reply.header('x-request-id', request.id);
    done();
  });
  // One labelled child per method/route/status, found by a string key: prom-client would
  // otherwise hash the label object on every request.
  const durationByLabels = new Map<string, { observe(seconds: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let child = durationByLabels.get(key);
    if (!child) {
      child = metrics.httpDuration.labels({ method: request.method, route, status_code: String(reply.statusCode) });
      // Unmatched routes share one label value, so the map stays bounded by routes x methods x statuses.
      durationByLabels.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });

  await app.register(errorHandlerPlugin);
  if (config.http.corsOrigins.length > 0) {
    await app.register(cors, { origin: [...config.http.corsOrigins], credentials: false, exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy'] });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: 'Portcullis API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(authenticatePlugin, {
    verifyAccessToken: registry.verifyAccessToken, revocations: registry.revocations, requestLimiter: registry.requestLimiter, metrics,
  });
  await app.register(opsRoutes, { metrics, readiness: registry.readiness });
  await app.register(wellKnownRoutes, {
    keyRing: registry.keyRing, issuer: registry.tokenOptions.issuer,
    jwksMaxAgeSeconds: Math.max(0, Math.min(300, Math.floor(config.tokens.keyActivationDelaySeconds / 2))),
  });
  await app.register(authRoutes, { registerUser: registry.registerUser, login: registry.login, findUser: registry.findUser, requestContext });
  await app.register(authzRoutes, { checkAuthorization: registry.checkAuthorization });
  await app.register(adminRoutes, { ...registry.admin, requestContext });
  await app.register(tokenRoutes, { rotateRefreshToken: registry.rotateRefreshToken, endSession: registry.endSession, requestContext });
  return app;
}
