import { defineProblems } from '../platform/errors/problem.js';

/** The identity module's error catalogue. */
export const identityProblems = defineProblems({
  EMAIL_TAKEN: { status: 409, title: 'An account with this email already exists' },
  WEAK_PASSWORD: { status: 400, title: 'The password does not meet the password policy' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  MFA_REQUIRED: { status: 401, title: 'A second factor is required' },
  USER_NOT_FOUND: { status: 404, title: 'No such user' },
});
