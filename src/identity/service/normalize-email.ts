/** Canonical form of an email for lookup and uniqueness: NFKC, trimmed, lowercased (domain and local part). */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}
