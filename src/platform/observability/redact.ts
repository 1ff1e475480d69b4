/**
 * The one redaction list: every log line and audit entry passes through it.
 * Keys are matched case-insensitively anywhere in an object.
 */
export const SECRET_KEYS: readonly string[] = [
  'authorization', 'cookie', 'set-cookie', 'password', 'newpassword', 'currentpassword', 'passwordhash', 'password_hash',
  'token', 'accesstoken', 'refreshtoken', 'idtoken', 'access_token', 'refresh_token', 'id_token',
  'secret', 'clientsecret', 'client_secret', 'totp', 'otp', 'code_verifier', 'masterkey', 'privatekey', 'private_jwk_sealed', 'd',
];

const SECRET_SET = new Set(SECRET_KEYS);

/** Pino redact paths for the same list (request headers and one level of nesting). */
export const LOG_REDACT_PATHS: string[] = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  ...SECRET_KEYS.filter((k) => k !== 'd').flatMap((k) => [k, `*.${k}`]),
];

/** Returns a deep copy with every secret-named key replaced by "[redacted]"; bounded in depth and size. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redactSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value).slice(0, 100)) {
      out[key] = SECRET_SET.has(key.toLowerCase()) ? '[redacted]' : redactSecrets(child, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string' && value.length > 1024) return `${value.slice(0, 1024)}…`;
  return value;
}
