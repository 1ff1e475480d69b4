// Writes config.schema.json and docs/configuration.md from the Zod schema;
// with --check, fails when either committed file has drifted.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configLeaves, loadConfig } from '../src/platform/config/load.js';
import { configSchema } from '../src/platform/config/schema.js';

function defaultOf(path: string[]): string {
  let node: unknown = loadConfig({ argv: [], env: {}, readFile: () => '' });
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  if (node === undefined) return '(unset)';
  return `\`${JSON.stringify(node)}\``;
}

/**
 * JSON Schema patterns have no flags, so a Zod regex with `i` would come out case-sensitive and
 * editors would flag values the server accepts (`REDISS://`). Spell each letter both ways; a
 * pattern this cannot rewrite safely fails loudly rather than being rewritten wrongly.
 */
function caseInsensitivePattern(pattern: RegExp): string {
  // Classes, groups with names or flags, and escapes followed by letters that are not literals (\p{…}, \u…, \x…, \c…, \k<…>).
  if (/\[|\(\?|\\[pPuxck]/.test(pattern.source)) throw new Error(`cannot rewrite /${pattern.source}/i for JSON Schema: only plain letters, escapes and groups are handled`);
  let out = '';
  for (let i = 0; i < pattern.source.length; i++) {
    const char = pattern.source[i]!;
    if (char === '\\') {
      out += char + (pattern.source[++i] ?? '');
    } else {
      out += /[a-z]/i.test(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char;
    }
  }
  return out;
}

const jsonSchema = z.toJSONSchema(configSchema, {
  io: 'input',
  override: ({ zodSchema, jsonSchema: json }) => {
    const checks = (zodSchema._zod.def as { checks?: Array<{ _zod: { def: { format?: string; pattern?: RegExp } } }> }).checks ?? [];
    const regex = checks.map((check) => check._zod.def).find((def) => def.format === 'regex' && def.pattern?.flags.includes('i'));
    if (regex?.pattern) json.pattern = caseInsensitivePattern(regex.pattern);
  },
});
const schemaJson = `${JSON.stringify(jsonSchema, null, 2)}\n`;
const table = [
  '# Configuration',
  '',
  'Generated from `src/platform/config/schema.ts` by `npm run config:schema`; CI fails when it drifts.',
  'Precedence: defaults < YAML file (`--config file.yaml` or `PORTCULLIS_CONFIG`) < environment.',
  'Every variable also accepts `NAME_FILE` (read from a file, e.g. a Docker/Kubernetes secret).',
  '',
  '| key (YAML path) | environment variable | default |',
  '|---|---|---|',
  ...configLeaves.map((leaf) => `| \`${leaf.path.join('.')}\` | \`${leaf.env}\` | ${defaultOf(leaf.path)} |`),
  '',
].join('\n');

const outputs: Array<[URL, string]> = [
  [new URL('../config.schema.json', import.meta.url), schemaJson],
  [new URL('../docs/configuration.md', import.meta.url), table],
];

if (process.argv.includes('--check')) {
  const stale = outputs.filter(([path, content]) => {
    try { return readFileSync(path, 'utf8') !== content; } catch { return true; }
  });
  if (stale.length > 0) {
    process.stderr.write(`out of date: ${stale.map(([p]) => p.pathname.split('/').slice(-2).join('/')).join(', ')}; run \`npm run config:schema\`\n`);
    process.exit(1);
  }
  process.stdout.write('config.schema.json and docs/configuration.md are in sync\n');
} else {
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  for (const [path, content] of outputs) writeFileSync(path, content);
  process.stdout.write('wrote config.schema.json and docs/configuration.md\n');
}
