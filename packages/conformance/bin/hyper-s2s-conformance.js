#!/usr/bin/env node
// A committed shim (not a build output), so package managers can link the bin before `dist` is built.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
