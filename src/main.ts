import { runCli } from './cli/index.js';

// The only file that touches process.env and process.argv: everything below takes them as arguments.
runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  onSignal: (signal, handler) => process.on(signal, handler),
  exit: (code) => process.exit(code),
  // A getter: stdin is opened only by a command that reads it (admin create), never by serve.
  get stdin() { return process.stdin; },
}).then(
  (code) => { if (code !== undefined) process.exit(code); },
  (error: unknown) => {
    process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
