import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { commonProblems } from './common-problems.js';
import { unavailableDependency } from './dependency-unavailable.js';
import { type FieldError, ProblemError, problemType } from './problem.js';

/** RFC 9457 body as sent on the wire. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  requestId: string;
}

// Fastify's own error codes that carry a client mistake, mapped to our catalogue.
const FASTIFY_CODES: Record<string, ProblemError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

function definitionByStatus(status: number) {
  switch (status) {
    case 400: return commonProblems.MALFORMED_REQUEST;
    case 401: return commonProblems.UNAUTHENTICATED;
    case 403: return commonProblems.FORBIDDEN;
    case 404: return commonProblems.NOT_FOUND;
    case 405: return commonProblems.METHOD_NOT_ALLOWED;
    case 413: return commonProblems.PAYLOAD_TOO_LARGE;
    case 415: return commonProblems.UNSUPPORTED_MEDIA_TYPE;
    case 429: return commonProblems.RATE_LIMITED;
    case 431: return commonProblems.HEADERS_TOO_LARGE;
    case 503: return commonProblems.SERVICE_UNAVAILABLE;
    default: return status >= 400 && status < 500 ? { code: 'BAD_REQUEST', status, title: 'Bad request' } : commonProblems.INTERNAL;
  }
}

function fieldErrors(error: { validation: Array<{ instancePath: string; keyword?: string; message?: string; params?: Record<string, unknown> }>; validationContext?: string }): FieldError[] {
  const out: FieldError[] = [];
  for (const v of error.validation) {
    const base = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const keys = v.params?.keys;
    if (v.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
      for (const key of keys.slice(0, 20)) out.push({ path: base ? `${base}.${String(key)}` : String(key), message: 'unknown field' });
    } else {
      out.push({ path: base || (error.validationContext ?? ''), message: v.message ?? 'invalid' });
    }
    if (out.length >= 50) break;
  }
  return out;
}

/** Seconds a client should wait before retrying after a 503: about one reconnect-and-check cycle of the pools. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The 503 sent while a dependency is down: same body whichever it is (the log names it). */
export function serviceUnavailableProblem(cause?: unknown): ProblemError {
  return new ProblemError(commonProblems.SERVICE_UNAVAILABLE, { headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) }, cause });
}

/** Maps any thrown value to a ProblemError; an unreachable dependency becomes a 503, other unknown errors a generic 500. */
export function toProblemError(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (unavailableDependency(error)) return serviceUnavailableProblem(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    return new ProblemError(commonProblems.VALIDATION_FAILED, { errors: fieldErrors(error) });
  }
  const fe = error as Partial<FastifyError> | undefined;
  if (fe && typeof fe === 'object' && Array.isArray((fe as { validation?: unknown }).validation)) {
    return new ProblemError(commonProblems.VALIDATION_FAILED, { errors: fieldErrors(fe as never) });
  }
  const mapped = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new ProblemError(commonProblems[mapped as keyof typeof commonProblems]);
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  // A 4xx from the framework (e.g. prototype poisoning, bad JSON) is the client's fault: keep the status, drop the internals.
  return new ProblemError(definitionByStatus(status >= 400 && status < 600 ? status : 500));
}

/** Renders a problem on a reply. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError): FastifyReply {
  const body: ProblemBody = { type: problemType(problem.code), title: problem.title, status: problem.status, requestId: request.id };
  if (problem.detail !== undefined && problem.status < 500) body.detail = problem.detail;
  if (problem.errors) body.errors = problem.errors;
  return reply.code(problem.status).headers(problem.headers).type('application/problem+json; charset=utf-8').send(body);
}

/** Root error handler: every error leaves as RFC 9457 problem+json; 5xx bodies carry only the request id. */
export const errorHandlerPlugin = fp(async function errorHandler(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblemError(error);
    const dependency = problem.status === 503 ? unavailableDependency(error) : undefined;
    // An outage makes every request fail the same way: warn with the dependency, keep error for the unexpected.
    if (dependency) request.log.warn({ dependency, err: error }, 'dependency unavailable');
    else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ problem: problem.code, status: problem.status }, 'request refused');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new ProblemError(commonProblems.NOT_FOUND)));
}, { name: 'portcullis-errors' });
