import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyLoadError, type PolicyProblem } from '../problems.js';
import { compilePolicies } from './compile-policies.js';
import type { PolicySet } from './policy-types.js';
import type { SourceFile } from './yaml-source.js';

/** The two file operations loading needs; tests pass an in-memory version. */
export interface PolicyFs {
  readdir(dir: string): Promise<string[]>;
  /** Reads a file as UTF-8 text. */
  readFile(path: string): Promise<string>;
}

/** The real file system. */
export const nodePolicyFs: PolicyFs = {
  readdir: (dir) => readdir(dir),
  readFile: (path) => readFile(path, 'utf8'),
};

/** Reads the `*.yaml`/`*.yml` files directly in `dir` (not subdirectories) and returns them as named sources. */
export async function readYamlSources(dir: string, fs: PolicyFs = nodePolicyFs, what = 'policy set'): Promise<SourceFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    throw new PolicyLoadError([{ file: dir, path: '', message: `cannot read the directory: ${reason(error)}` }], what);
  }
  // Dotfiles and '#' files are editors' temporary and lock files (.#doc.yaml), never sources.
  const files = names.filter((name) => /\.ya?ml$/.test(name) && !/^[.#]/.test(name)).sort();
  const problems: PolicyProblem[] = [];
  const sources: SourceFile[] = [];
  await Promise.all(files.map(async (name) => {
    const file = join(dir, name);
    try {
      sources.push({ file, text: await fs.readFile(file) });
    } catch (error) {
      problems.push({ file, path: '', message: `cannot read the file: ${reason(error)}` });
    }
  }));
  const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  if (problems.length > 0) throw new PolicyLoadError(problems.sort(byFile), what);
  return sources.sort(byFile);
}

/** Loads and compiles every policy file in `dir`; throws PolicyLoadError listing every problem in every file. */
export async function loadPolicies(dir: string, fs: PolicyFs = nodePolicyFs): Promise<PolicySet> {
  return compilePolicies(await readYamlSources(dir, fs));
}

function reason(error: unknown): string {
  // Node's errno errors carry a stable code (ENOENT, EACCES) that reads better than the message.
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
