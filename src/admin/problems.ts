import { defineProblems } from '../platform/errors/problem.js';

/** The admin module's error catalogue (404 and 403 come from identity and the common catalogue). */
export const adminProblems = defineProblems({
  INVALID_CURSOR: { status: 400, title: 'The cursor is not valid for this query' },
  LAST_ADMIN: { status: 409, title: 'This change would leave no active administrator' },
});
