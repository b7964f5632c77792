#!/usr/bin/env node
// The `strata` command: registers tsx so the TypeScript sources run as they are, then hands
// over to the CLI. Commands load their modules on demand, so `strata --help` stays quick.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src-main/cli/main.ts');
await runCli();
