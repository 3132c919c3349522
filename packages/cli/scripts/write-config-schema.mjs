#!/usr/bin/env node
// Writes siamese.config.schema.json (the JSON Schema editors use for siamese.config.json) from the
// schema declared in src/config/siamese-config.ts, read from the BUILT package, formatted by Biome
// like every other file. A test fails when the committed file and the declaration disagree: run
// `pnpm --filter @siamese/cli schema`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../dist/config/index.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', CONFIG_SCHEMA_FILE);
writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
execFileSync('biome', ['format', '--write', out], { stdio: 'inherit', shell: process.platform === 'win32' });
console.log(`wrote ${out}`);
