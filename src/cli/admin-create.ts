import { readFileSync } from 'node:fs';
import { toAdminUserView, type CreateAdminInput } from '../admin/index.js';
import type { UserRecord } from '../identity/index.js';
import { ProblemError } from '../platform/errors/problem.js';

/** Standard input as the CLI reads it; main.ts passes process.stdin. */
export type CliStdin = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/** What `admin create` writes to and reads from. */
export interface AdminCreateIo {
  stdin?: CliStdin | undefined;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** The flags of `admin create`, as parsed. */
export interface AdminCreateFlags {
  email?: string | undefined;
  passwordFile?: string | undefined;
  tenant?: string | undefined;
}

// A password is short; a megabyte on stdin is a mistake (the wrong file), not a password.
const MAX_PASSWORD_BYTES = 4096;
// Piped input that never ends (a forgotten heredoc, a CI job with an open stdin) must not hang the command.
const STDIN_TIMEOUT_MS = 30_000;
const PREFIX = 'portcullis admin create:';

class Refusal extends Error {}

/**
 * Refuses a password on the command line, before anything else is parsed: argv is visible to
 * every local user (`ps`, /proc/<pid>/cmdline) and lands in shell history. Returns the message.
 */
export function argvPasswordRefusal(argv: readonly string[]): string | undefined {
  if (!argv.some((arg) => arg === '--password' || arg.startsWith('--password='))) return undefined;
  return `${PREFIX} --password is not accepted: a password in the command line is visible to other users (ps) and kept in shell history. `
    + 'Use --password-file FILE, pipe it on stdin, or type it at the prompt.';
}

// One trailing line ending is the file's or the pipe's, not the password's; any other line break is a mistake.
function oneLine(text: string, source: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(password)) throw new Refusal(`the password from ${source} must be a single line`);
  if (password === '') throw new Refusal(`no password in ${source}`);
  return password;
}

function readPiped(stdin: CliStdin): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(() => reject(new Refusal(`no password arrived on stdin within ${STDIN_TIMEOUT_MS / 1000} s (pipe it in, or use --password-file)`))), STDIN_TIMEOUT_MS);
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > MAX_PASSWORD_BYTES) finish(() => reject(new Refusal(`stdin holds more than ${MAX_PASSWORD_BYTES} bytes: that is not a password`)));
      else chunks.push(bytes);
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks).toString('utf8')));
    const onError = (error: Error) => finish(() => reject(error));
    function finish(settle: () => void): void {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
      settle();
    }
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
}

// Raw mode turns the terminal's echo off; the keystrokes are read one by one until Enter.
function promptHidden(stdin: CliStdin, say: (line: string) => void, prompt: string): Promise<string> {
  say(prompt);
  stdin.setRawMode?.(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(typed));
        if (ch === '\u0003' || ch === '\u0004') return finish(() => reject(new Refusal('cancelled')));
        typed = ch === '\u007f' || ch === '\b' ? Array.from(typed).slice(0, -1).join('') : typed + ch;
      }
      return undefined;
    };
    function finish(settle: () => void): void {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      settle();
    }
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readPassword(flags: AdminCreateFlags, io: AdminCreateIo): Promise<string> {
  if (flags.passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.passwordFile, 'utf8');
    } catch (error) {
      throw new Refusal(`cannot read --password-file: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    if (Buffer.byteLength(text) > MAX_PASSWORD_BYTES + 2) throw new Refusal(`--password-file holds more than ${MAX_PASSWORD_BYTES} bytes: that is not a password`);
    return oneLine(text, '--password-file');
  }
  if (!io.stdin) throw new Refusal('no password source: use --password-file FILE or pipe the password on stdin');
  if (!io.stdin.isTTY) return oneLine(await readPiped(io.stdin), 'stdin');
  const first = await promptHidden(io.stdin, io.stderr, 'Password for the new administrator (not echoed), then Enter:');
  const second = await promptHidden(io.stdin, io.stderr, 'The same password again:');
  if (first !== second) throw new Refusal('the two passwords differ');
  return oneLine(first, 'the prompt');
}

function explain(error: ProblemError): string {
  const details = (error.errors ?? []).map((e) => (e.path ? `${e.path} ${e.message}` : e.message));
  return `${PREFIX} ${error.title.charAt(0).toLowerCase()}${error.title.slice(1)}${details.length > 0 ? `: ${details.join('; ')}` : ''}`;
}

/**
 * `portcullis admin create --email E [--password-file F] [--tenant T]`: reads the password from
 * the file, else from piped stdin, else from a no-echo prompt (never from argv), then creates the
 * administrator through `withCreator` (which opens the database only once a password is in hand).
 * Exit 0 with the account as JSON on stdout; 1 when refused (weak password, email taken); 64 on usage errors.
 */
export async function adminCreate(
  flags: AdminCreateFlags,
  io: AdminCreateIo,
  withCreator: (run: (create: (input: CreateAdminInput) => Promise<UserRecord>) => Promise<number>) => Promise<number>,
): Promise<number> {
  if (!flags.email) {
    io.stderr(`${PREFIX} --email is required`);
    return 64;
  }
  let password: string;
  try {
    password = await readPassword(flags, io);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    io.stderr(`${PREFIX} ${error.message}`);
    return 64;
  }
  return withCreator(async (create) => {
    try {
      const user = await create({ email: flags.email!, password, tenant: flags.tenant });
      io.stdout(JSON.stringify({ user: toAdminUserView(user) }));
      return 0;
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) throw error;
      io.stderr(explain(error));
      return 1;
    }
  });
}
