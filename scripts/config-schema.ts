// Writes config.schema.json from the Zod schema; with --check, fails when the committed file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../src/platform/config/schema.js';

const path = new URL('../config.schema.json', import.meta.url);
const generated = `${JSON.stringify(z.toJSONSchema(configSchema, { io: 'input' }), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(path, 'utf8'); } catch { /* missing counts as drift */ }
  if (current !== generated) {
    process.stderr.write('config.schema.json is out of date: run `npm run config:schema`\n');
    process.exit(1);
  }
  process.stdout.write('config.schema.json is in sync\n');
} else {
  writeFileSync(path, generated);
  process.stdout.write('wrote config.schema.json\n');
}
