import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { PolicyProblem } from '../problems.js';

/** A file's name (as reported in problems) and its text. */
export interface SourceFile {
  file: string;
  text: string;
}

/** A step into a document: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** A validated document plus a way to report later (semantic) problems at the right line. */
export interface ParsedSource<T> {
  readonly file: string;
  readonly value: T;
  /** A problem located at `path`: at its key for `at: 'key'`, else at its value (or the nearest ancestor that exists). */
  problemAt(path: readonly PathSegment[], message: string, at?: 'key' | 'value'): PolicyProblem;
}

// Aliases let a tiny file expand into a huge one ("billion laughs"); a policy never needs many.
const MAX_ALIAS_COUNT = 100;

/** Parses one YAML file and validates it against `schema`; every problem carries the file, line, column and path. */
export function parseYamlSource<S extends z.ZodType>(source: SourceFile, schema: S): { ok: true; parsed: ParsedSource<z.output<S>> } | { ok: false; problems: PolicyProblem[] } {
  const lineCounter = new LineCounter();
  // uniqueKeys: a second `effect:` in one rule must be an error, not a silent override.
  const doc = parseDocument(source.text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({ file: source.file, ...lineCounter.linePos(error.pos[0]), path: '', message: `YAML: ${error.message}` })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { ok: false, problems: [{ file: source.file, path: '', message: `YAML: ${error instanceof Error ? error.message : String(error)}` }] };
  }

  const problemAt = (path: readonly PathSegment[], message: string, at: 'key' | 'value' = 'value'): PolicyProblem => {
    const position = locate(doc, path, at);
    return { file: source.file, ...(position === undefined ? {} : lineCounter.linePos(position)), path: formatPath(path), message };
  };

  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue): PolicyProblem[] => {
      const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        // One problem per key, pointing at the key itself: that is the line to delete or fix.
        return issue.keys.map((key) => problemAt([...path, key], 'unknown key', 'key'));
      }
      if (path.length === 0 && (data === null || data === undefined)) return [problemAt(path, 'the file is empty')];
      // Zod words a missing key as a wrong type or value ("expected one of ..., received undefined").
      if (path.length > 0 && !hasPath(data, path)) return [problemAt(path, 'required')];
      return [problemAt(path, issue.message)];
    });
    return { ok: false, problems: sortByPlace(problems) };
  }
  return { ok: true, parsed: { file: source.file, value: result.data, problemAt } };
}

/** Renders a path as it reads in the YAML: `resourcePolicy.rules[1].condition`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Orders problems by line then column, so a report reads top to bottom like the file. */
export function sortByPlace(problems: PolicyProblem[]): PolicyProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

function hasPath(data: unknown, path: readonly PathSegment[]): boolean {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return false;
    value = (value as Record<PathSegment, unknown>)[segment];
  }
  return value !== undefined;
}

// Offset of the deepest node along `path` that exists in the document.
function locate(doc: Document, path: readonly PathSegment[], at: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      const last = i === path.length - 1;
      // An empty value (`effect:`) has no useful range, so fall back to its key.
      offset = (last && at === 'key') || rangeStart(pair.value) === undefined ? rangeStart(pair.key) ?? offset : rangeStart(pair.value);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0];
}
