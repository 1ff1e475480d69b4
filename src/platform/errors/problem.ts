/** One entry of an error catalogue: a stable code, its HTTP status and a human title. */
export interface ProblemDefinition<Code extends string = string> {
  readonly code: Code;
  readonly status: number;
  readonly title: string;
}

/** A field-level validation failure as rendered in `errors` (RFC 9457 extension member). */
export interface FieldError {
  path: string;
  message: string;
}

/** Base URI of problem `type`s; each code becomes a kebab-case slug below it. */
export const PROBLEM_TYPE_BASE = 'https://portcullis.dev/problems/';

/** Turns an UPPER_SNAKE code into the problem type URI, e.g. MFA_REQUIRED -> .../mfa-required. */
export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

/** An error that renders as an RFC 9457 problem; thrown by services, rendered by the root error handler. */
export class ProblemError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  /** Extra response headers, e.g. Retry-After for 429 and 503. */
  readonly headers: Record<string, string>;

  constructor(
    definition: ProblemDefinition,
    options: { detail?: string; errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(options.detail ?? definition.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProblemError';
    this.code = definition.code;
    this.status = definition.status;
    this.title = definition.title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** Declares a module's catalogue; keys must equal codes so a code can never drift from its name. */
export function defineProblems<const T extends Record<string, { status: number; title: string }>>(
  catalogue: T,
): { readonly [K in keyof T & string]: ProblemDefinition<K> } {
  const out: Record<string, ProblemDefinition> = {};
  for (const [code, def] of Object.entries(catalogue)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(code)) throw new Error(`problem code ${code} is not UPPER_SNAKE`);
    out[code] = Object.freeze({ code, status: def.status, title: def.title });
  }
  return Object.freeze(out) as { readonly [K in keyof T & string]: ProblemDefinition<K> };
}
