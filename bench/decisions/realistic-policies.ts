// A realistic policy set for the decision benchmark: 20 resource kinds, derived roles computed
// from attributes, CEL conditions on most rules, tenant isolation on half of the kinds, and a
// deterministic workload of questions mixing allows, denials and cross-tenant attempts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The resource kinds of the generated set: what a SaaS back office typically guards. */
export const RESOURCE_KINDS = [
  'document', 'folder', 'project', 'invoice', 'order', 'customer', 'ticket', 'comment', 'repository', 'pipeline',
  'secret', 'dashboard', 'report', 'contract', 'payment', 'subscription', 'team', 'workspace', 'calendar-event', 'message',
] as const;

/** One policy file: roles, two derived roles, conditions over principal, resource and request time. */
function policyYaml(kind: string, tenantIsolation: boolean): string {
  return `apiVersion: portcullis/v1
resourcePolicy:
  resource: ${kind}
  tenantIsolation: ${tenantIsolation}
  derivedRoles:
    - name: owner
      parentRoles: [user]
      condition: resource.attr.owner == principal.id
    - name: team-member
      parentRoles: [user, contractor]
      condition: has(principal.attr.teams) && has(resource.attr.team) && resource.attr.team in principal.attr.teams
  rules:
    - name: admins-do-anything
      actions: ['*']
      effect: allow
      roles: [admin]
    - name: owners-manage
      actions: [read, update, delete, share]
      effect: allow
      derivedRoles: [owner]
    - name: team-reads-and-comments
      actions: [read, comment]
      effect: allow
      derivedRoles: [team-member]
      condition: resource.attr.status != "draft"
    # getHours() with no argument is UTC by the CEL spec; a zone argument ("UTC", "Europe/Paris")
    # costs ~250 µs a call in @bufbuild/cel 0.6, which builds an Intl.DateTimeFormat every time.
    - name: team-updates-in-office-hours
      actions: [update]
      effect: allow
      derivedRoles: [team-member]
      condition: request.time.getHours() >= 6 && request.time.getHours() < 22
    - name: auditors-read-closed
      actions: [read]
      effect: allow
      roles: [auditor]
      condition: resource.attr.status in ["closed", "archived"]
    - name: public-read
      actions: [read]
      effect: allow
      condition: has(resource.attr.public) && resource.attr.public == true
    - name: no-delete-under-legal-hold
      actions: [delete]
      effect: deny
      condition: has(resource.attr.legalHold) && resource.attr.legalHold == true
    - name: contractors-never-share
      actions: [share]
      effect: deny
      roles: [contractor]
`;
}

/** Writes the 20 policy files into `dir` (created). */
export function writeRealisticPolicies(dir: string): void {
  mkdirSync(dir, { recursive: true });
  RESOURCE_KINDS.forEach((kind, i) => writeFileSync(join(dir, `${kind}.yaml`), policyYaml(kind, i % 2 === 0)));
}

/** A principal, a resource and the actions asked about it, as the decision API receives them. */
export interface Question {
  principal: { id: string; roles: string[]; attr: Record<string, unknown> };
  resource: { kind: string; id: string; attr: Record<string, unknown> };
  actions: string[];
}

const ROLE_SETS = [['user'], ['user'], ['user'], ['contractor'], ['auditor'], ['admin'], ['user', 'auditor']];
const STATUSES = ['draft', 'open', 'closed', 'archived'];
const ACTION_SETS = [['read'], ['read', 'update'], ['read', 'update', 'delete'], ['comment', 'share']];

/** `count` deterministic questions (a small LCG, so every run asks the same things). */
export function realisticQuestions(count: number): Question[] {
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return (seed >>> 8) % n;
  };
  const questions: Question[] = [];
  for (let i = 0; i < count; i++) {
    const userId = `u${next(1000)}`;
    const tenant = `t${next(5)}`;
    const owner = next(3) === 0 ? userId : `u${next(1000)}`;
    questions.push({
      principal: { id: userId, roles: ROLE_SETS[next(ROLE_SETS.length)]!, attr: { tenant, teams: [`team${next(20)}`, `team${next(20)}`] } },
      resource: {
        kind: RESOURCE_KINDS[next(RESOURCE_KINDS.length)]!,
        id: `r${i}`,
        // One in ten resources belongs to another tenant: tenant isolation has work to do.
        attr: {
          owner, tenant: next(10) === 0 ? `t${next(5) + 5}` : tenant, team: `team${next(20)}`,
          status: STATUSES[next(STATUSES.length)]!, public: next(8) === 0, legalHold: next(12) === 0,
        },
      },
      actions: ACTION_SETS[next(ACTION_SETS.length)]!,
    });
  }
  return questions;
}
