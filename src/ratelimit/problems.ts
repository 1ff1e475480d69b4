import { defineProblems } from '../platform/errors/problem.js';

/** The rate-limit module's error catalogue. */
export const rateLimitProblems = defineProblems({
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
});
