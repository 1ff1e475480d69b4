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

const schemaJson = `${JSON.stringify(z.toJSONSchema(configSchema, { io: 'input' }), null, 2)}\n`;
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
