import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.js';

/** Everything loadConfig reads, passed in so it stays pure and testable. */
export interface ConfigSources {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

/** Start-up configuration is invalid; the message names every bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type LeafKind = 'string' | 'number' | 'boolean' | 'array' | 'union';
interface Leaf { path: string[]; kind: LeafKind; env: string }

// Names fixed by DESIGN.md that do not follow the PORTCULLIS_ convention.
const ENV_ALIASES: Record<string, string> = { databaseUrl: 'DATABASE_URL', redisUrl: 'REDIS_URL', nodeEnv: 'NODE_ENV' };

const toSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } };
  while (['default', 'prefault', 'optional', 'nullable'].includes(current._zod.def.type) && current._zod.def.innerType) {
    current = current._zod.def.innerType as never;
  }
  return current as unknown as z.ZodType;
}

function collectLeaves(schema: z.ZodType, path: string[], out: Leaf[]): Leaf[] {
  const inner = unwrap(schema) as unknown as { _zod: { def: { type: string; shape?: Record<string, z.ZodType> } } };
  const type = inner._zod.def.type;
  if (type === 'object' && inner._zod.def.shape) {
    for (const [key, child] of Object.entries(inner._zod.def.shape)) collectLeaves(child, [...path, key], out);
    return out;
  }
  const kind: LeafKind = type === 'number' || type === 'int' ? 'number' : type === 'boolean' ? 'boolean' : type === 'array' ? 'array' : type === 'union' ? 'union' : 'string';
  const alias = path.length === 1 ? ENV_ALIASES[path[0]!] : undefined;
  out.push({ path, kind, env: alias ?? `PORTCULLIS_${path.map(toSnake).join('__')}` });
  return out;
}

/** Every configurable leaf with its environment variable name; used for docs and the loader. */
export const configLeaves: readonly Leaf[] = Object.freeze(collectLeaves(configSchema as unknown as z.ZodType, [], []));

function coerce(raw: string, kind: LeafKind): unknown {
  const value = raw.trim();
  switch (kind) {
    case 'number': return value === '' ? raw : Number(value);
    case 'boolean': return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : raw;
    case 'array': return value === '' ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
    case 'union':
      if (value === 'true' || value === 'false') return value === 'true';
      return /^\d+$/.test(value) ? Number(value) : value;
    default: return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function configFileArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/** Builds the configuration: defaults < YAML file (`--config`) < environment; secrets may come from `NAME_FILE`. */
export function loadConfig(sources: ConfigSources): Readonly<Config> {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  const file = configFileArg(sources.argv) ?? sources.env.PORTCULLIS_CONFIG;
  if (file) {
    try {
      const parsed: unknown = parseYaml(sources.readFile(file));
      if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) problems.push(`${file}: the top level must be a mapping`);
      else fromFile = (parsed as Record<string, unknown> | null) ?? {};
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  const fromEnv: Record<string, unknown> = {};
  for (const leaf of configLeaves) {
    const fileRef = sources.env[`${leaf.env}_FILE`];
    let raw = sources.env[leaf.env];
    if (raw === undefined && fileRef) {
      try {
        raw = sources.readFile(fileRef).trim();
      } catch (error) {
        problems.push(`${leaf.env}_FILE: cannot read ${fileRef} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        continue;
      }
    }
    if (raw !== undefined && raw !== '') setPath(fromEnv, leaf.path, coerce(raw, leaf.kind));
  }

  const result = configSchema.safeParse(deepMerge(fromFile, fromEnv));
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [issue.path.join('.')];
      for (const key of keys) {
        const leaf = configLeaves.find((l) => l.path.join('.') === key);
        const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
        problems.push(`${key}${leaf ? ` (${leaf.env})` : ''}: ${message}`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(result.data!);
}
