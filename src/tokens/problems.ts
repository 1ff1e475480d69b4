import { defineProblems } from '../platform/errors/problem.js';

/** The tokens module's error catalogue. One code for every bad access token: no oracle. */
export const tokenProblems = defineProblems({
  INVALID_TOKEN: { status: 401, title: 'The access token is missing, invalid, expired or revoked' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'The refresh token is invalid, expired or already used' },
});
