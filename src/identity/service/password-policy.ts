import { readFileSync } from 'node:fs';

/** Options from config: lengths are counted in Unicode code points after NFKC normalisation. */
export interface PasswordPolicyOptions {
  minLength: number;
  maxLength: number;
}

/** Why a password was refused; stable codes for the API. */
export type PasswordViolation = 'too_short' | 'too_long' | 'common' | 'contains_email';

/** The outcome: empty `violations` means acceptable; `messages` are human sentences, one per violation, never echoing the password. */
export interface PasswordCheck {
  violations: PasswordViolation[];
  messages: string[];
}

// Resolved from this module rather than the working directory so the list is found whichever
// directory the process was started from.
const COMMON_PASSWORDS_URL = new URL('../data/common-passwords.txt', import.meta.url);

// The email local part must be at least this long to count: shorter ones ("al", "jo") occur
// in so many passphrases by chance that refusing them would be noise, not protection.
const MIN_EMAIL_LOCAL_PART = 3;

let commonPasswordsCache: ReadonlySet<string> | undefined;

/** NFKC normalisation applied before checking and before hashing (SP 800-63B 3.1.1.2). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Loads the shipped list (src/identity/data/common-passwords.txt, resolved relative to this module via import.meta.url) as a Set of lowercase entries; read once and cached. */
export function loadCommonPasswords(): ReadonlySet<string> {
  if (commonPasswordsCache === undefined) {
    const entries = new Set<string>();
    // Trimming tolerates CRLF checkouts; the list holds no entries with whitespace.
    for (const line of readFileSync(COMMON_PASSWORDS_URL, 'utf8').split('\n')) {
      const entry = line.trim().toLowerCase();
      if (entry !== '') entries.add(entry);
    }
    commonPasswordsCache = entries;
  }
  return commonPasswordsCache;
}

/** Builds the checker. */
export function createPasswordPolicy(
  options: PasswordPolicyOptions,
  commonPasswords: ReadonlySet<string>,
): { check(password: string, context: { email: string }): PasswordCheck } {
  const { minLength, maxLength } = options;
  // Config validates these already; failing here keeps a hand-built policy from silently accepting everything.
  if (!Number.isInteger(minLength) || !Number.isInteger(maxLength) || minLength < 1 || maxLength < minLength) {
    throw new RangeError(`invalid password length bounds: ${minLength}..${maxLength}`);
  }

  return {
    check(password, context) {
      const normalized = normalizePassword(password);

      // Past the maximum nothing else matters, so the comparisons below are never spent on huge inputs.
      if (codePointLengthExceeds(normalized, maxLength)) {
        return { violations: ['too_long'], messages: [`must be at most ${maxLength} characters`] };
      }

      const violations: PasswordViolation[] = [];
      const messages: string[] = [];
      const refuse = (violation: PasswordViolation, message: string): void => {
        violations.push(violation);
        messages.push(message);
      };

      if ([...normalized].length < minLength) {
        refuse('too_short', `must be at least ${minLength} characters`);
      }

      const lowered = normalized.toLowerCase();
      if (commonPasswords.has(lowered)) {
        refuse('common', 'is too common: it appears in lists of breached passwords');
      }

      const localPart = emailLocalPart(context.email);
      if ([...localPart].length >= MIN_EMAIL_LOCAL_PART && lowered.includes(localPart)) {
        refuse('contains_email', 'must not contain the email address');
      }

      return { violations, messages };
    },
  };
}

// Counts code points only up to the limit, so an oversized input is not spread into an array.
function codePointLengthExceeds(text: string, limit: number): boolean {
  const codePoints = text[Symbol.iterator]();
  for (let count = 0; count <= limit; count += 1) {
    if (codePoints.next().done === true) return false;
  }
  return true;
}

// Normalised and lowercased like the password so that fullwidth or capitalised forms of the
// address still match; "+tag" is dropped because it is a mailbox alias, not part of the identity.
function emailLocalPart(email: string): string {
  const at = email.lastIndexOf('@');
  const local = normalizePassword(at === -1 ? email : email.slice(0, at)).toLowerCase();
  const plus = local.indexOf('+');
  return plus === -1 ? local : local.slice(0, plus);
}
