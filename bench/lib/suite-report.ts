// Reports of the suites beside the core one (policy, audit query, distributed): one Markdown file
// and one JSON file per suite, dated and latest, in the same shape as the core report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineSection, resultsTable, targetsSection } from './report.js';
import type { MachineInfo, ScenarioResult, TargetCheck } from './types.js';

/** What a suite hands to the report. */
export interface SuiteReport {
  suite: string;
  title: string;
  machine: MachineInfo;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  /** Autocannon scenarios, if any (a `bare-fastify` one gives the ratio column). */
  scenarios: ScenarioResult[];
  /** Markdown lines of the suite's own sections. */
  sections: string[];
  targets: TargetCheck[];
  errors: string[];
  elapsedSeconds: number;
  /** Raw figures, written to the JSON file. */
  data: unknown;
}

/** Writes `<date>-<suite>.md`, `latest-<suite>.md` and `latest-<suite>.json`; returns the dated path. */
export function writeSuiteReport(r: SuiteReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const markdown = [
    `# ${r.title}, ${r.machine.date.slice(0, 10)}`, '',
    ...machineSection(r),
    ...r.sections,
    ...(r.scenarios.length ? resultsTable(r) : []),
    ...targetsSection(r),
    ...(r.errors.length ? ['## Errors', '', ...r.errors.map((e) => `- ${e.replaceAll('\n', ' ').slice(0, 2000)}`), ''] : []),
    `Total time: ${r.elapsedSeconds.toFixed(0)} s.`, '',
  ].join('\n');
  const dated = join(dir, `${r.machine.date.slice(0, 10)}-${r.suite}.md`);
  writeFileSync(dated, markdown);
  writeFileSync(join(dir, `latest-${r.suite}.md`), markdown);
  const { sections: _sections, ...json } = r;
  writeFileSync(join(dir, `latest-${r.suite}.json`), `${JSON.stringify(json, null, 2)}\n`);
  return dated;
}
