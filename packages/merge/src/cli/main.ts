#!/usr/bin/env node
/** Entry point of the `mats` bin. */
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
