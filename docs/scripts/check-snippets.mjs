#!/usr/bin/env node
// Runs the guide's code: every fenced block titled with a file name, ```ts [name.mjs]```, is part of
// that file; the blocks of one file are joined in page order and run with Node in a fresh folder,
// against the workspace's built packages. A snippet that throws fails the docs build, so the
// guide cannot drift from the API. Blocks without a title (shell commands, sketches that need a
// GPU or PyTorch) are not run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCS = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Inside docs/ so that `@siamese/*` resolve through docs/node_modules (the workspace packages).
const WORK = join(DOCS, '.snippets');
const FENCE = /^```(?:ts|js|typescript|javascript)\s+\[([\w.-]+\.mjs)\]\s*\n([\s\S]*?)^```\s*$/gm;

function pages(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'reference') return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? pages(path) : e.name.endsWith('.md') ? [path] : [];
  });
}

const started = Date.now();
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
let failed = 0;
let ran = 0;
try {
  for (const page of pages(DOCS)) {
    const files = new Map();
    for (const [, name, code] of readFileSync(page, 'utf8').matchAll(FENCE)) {
      files.set(name, `${files.get(name) ?? ''}${code}\n`);
    }
    for (const [name, code] of files) {
      const where = `${relative(DOCS, page)} [${name}]`;
      const cwd = mkdtempSync(join(WORK, 'run-'));
      writeFileSync(join(cwd, name), code);
      try {
        const out = execFileSync(process.execPath, [name], {
          cwd,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 120_000,
        });
        if (process.env.SNIPPETS_VERBOSE) console.log(`--- ${where}\n${out}`);
        ran++;
      } catch (e) {
        failed++;
        console.error(`check-snippets: ${where} failed:\n${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim()}`);
      }
    }
  }
} finally {
  rmSync(WORK, { recursive: true, force: true });
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failed > 0) {
  console.error(`check-snippets: ${failed} of ${failed + ran} snippet files failed`);
  process.exit(1);
}
console.log(`check-snippets: ${ran} snippet files ran (${seconds} s)`);
