import type { FastifyBaseLogger } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger.js';

type LogFn = (...args: unknown[]) => void;

// A class rather than an object of closures: nothing is allocated per method per request.
class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Record<string, unknown>;
  readonly #options: Record<string, unknown>;

  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): string { return this.#child?.level ?? this.#parent.level; }
  set level(value: string) { this.#real().level = value; }
  fatal(...args: unknown[]): void { (this.#real().fatal as LogFn)(...args); }
  error(...args: unknown[]): void { (this.#real().error as LogFn)(...args); }
  warn(...args: unknown[]): void { (this.#real().warn as LogFn)(...args); }
  info(...args: unknown[]): void { (this.#real().info as LogFn)(...args); }
  debug(...args: unknown[]): void { (this.#real().debug as LogFn)(...args); }
  trace(...args: unknown[]): void { (this.#real().trace as LogFn)(...args); }
  silent(): void {}
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger { return this.#real().child(bindings, options); }
}

/**
 * Fastify's childLoggerFactory, made lazy: the per-request child (which binds the request id and
 * runs pino's redaction over its bindings) is only built when the request actually logs; a
 * request that logs nothing (the common, successful case) never pays for it.
 */
export const lazyChildLogger = ((parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: Record<string, unknown>) =>
  new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger) as unknown as FastifyChildLoggerFactory;
