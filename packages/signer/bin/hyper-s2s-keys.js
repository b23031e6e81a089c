#!/usr/bin/env node
// A committed shim (not a build output), so package managers can link the bin before `dist` is built.
import { runCli } from '../dist/cli/main.js';

process.exitCode = runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
