#!/usr/bin/env node
// Generates the API reference (docs/reference/api/, not committed) from the TypeScript sources of
// every published package: TypeDoc + typedoc-plugin-markdown, one run per package, one page tree
// per package, plus the sidebar the VitePress config reads (reference/api/sidebar.json).
//
// Types from other workspace packages resolve through their built declarations, so the packages
// must be built first (turbo's `^build` does that for `pnpm docs:build`). A package whose entry
// point exports nothing yet gets a page saying so instead of failing the build. Type errors in a
// package are its own build's business (`pnpm typecheck`), so TypeDoc does not re-check them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { Application, LogLevel, OptionDefaults, ReflectionKind, RendererEvent } from 'typedoc';

const DOCS = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(DOCS, '..');
const OUT = join(DOCS, 'reference', 'api');

/** Published packages and the entry points their `exports` map makes public. */
const PACKAGES = [
  { dir: 'core', entries: ['src/index.ts', 'src/conformance/index.ts'] },
  { dir: 'backend-onnx', entries: ['src/index.ts'] },
  { dir: 'backend-tfjs', entries: ['src/index.ts'] },
  { dir: 'backend-torch', entries: ['src/index.ts'] },
  { dir: 'datasets', entries: ['src/index.ts'] },
  { dir: 'gallery', entries: ['src/index.ts'] },
  { dir: 'serve', entries: ['src/index.ts'] },
  { dir: 'web', entries: ['src/index.ts'] },
  { dir: 'cli', entries: ['src/index.ts'] },
];

/** `@siamese/core` for `src/index.ts`, `@siamese/core/conformance` for `src/conformance/index.ts`. */
function moduleName(pkgName, entry) {
  const sub = dirname(entry).replace(/^src\/?/, '');
  return sub ? `${pkgName}/${sub}` : pkgName;
}

function pageLink(path) {
  return `/${relative(DOCS, path)
    .replaceAll('\\', '/')
    .replace(/(^|\/)index\.md$/, '$1')}`;
}

/** The one-line description of a package, for the index page. */
function readPackage(dir) {
  return JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
}

/**
 * Where each exported symbol of an already generated package lives, so that the packages built on
 * it link their `@siamese/core` types to its pages (TypeDoc's externalSymbolLinkMappings).
 */
const symbolPages = {};

async function generate(pkg) {
  const root = join(ROOT, 'packages', pkg.dir);
  const manifest = readPackage(pkg.dir);
  const out = join(OUT, pkg.dir);
  const warnings = [];
  const app = await Application.bootstrapWithPlugins({
    name: manifest.name,
    entryPoints: pkg.entries.map((e) => join(root, e)),
    entryPointStrategy: 'resolve',
    tsconfig: join(root, 'tsconfig.json'),
    plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
    out,
    docsRoot: DOCS,
    readme: 'none',
    // Source links would point into a repository the site does not know; signatures say enough.
    disableSources: true,
    skipErrorChecking: true,
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
    hideGenerator: true,
    hideBreadcrumbs: true,
    sort: ['kind', 'alphabetical'],
    useCodeBlocks: true,
    // Comments mention paths such as `root/<class>/images`: escape < > { } so that VitePress (Vue)
    // does not read them as tags or interpolation.
    sanitizeComments: true,
    expandObjects: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    classPropertiesFormat: 'table',
    typeAliasPropertiesFormat: 'table',
    enumMembersFormat: 'table',
    sidebar: { autoConfiguration: true, format: 'vitepress', pretty: true, collapsed: true },
    // Generated protobuf code (backend-onnx's ONNX bindings) carries `@generated` tags.
    blockTags: [...OptionDefaults.blockTags, '@generated'],
    externalSymbolLinkMappings: symbolPages,
    logLevel: LogLevel.Warn,
    // Types the API mentions but the package does not export: listed as warnings, not fatal.
    validation: { notExported: true, invalidLink: true, notDocumented: false },
  });
  app.logger.log = (message, level) => {
    // First line, without colours: TypeDoc appends the source excerpt.
    const text = stripVTControlCharacters(String(message)).split('\n')[0];
    if (level >= LogLevel.Error) console.error(`  ${manifest.name}: error: ${text}`);
    else if (level === LogLevel.Warn) warnings.push(text);
  };

  const project = await app.convert();
  if (!project) throw new Error(`${manifest.name}: TypeDoc could not convert ${pkg.entries.join(', ')}`);
  // Types the public API mentions but the package does not export (listed, not fatal).
  app.validate(project);

  // Several entry points (core): TypeDoc names the modules by path (`index`, `conformance`) and
  // derives page paths from those names. Keep a path-friendly name for routing, then show each
  // module under its import specifier once the pages are laid out.
  const modules = (project.children ?? []).filter((c) => c.kindOf(ReflectionKind.Module));
  const display = new Map();
  for (const child of modules) {
    const entry = pkg.entries.find((e) => (dirname(e).replace(/^src\/?/, '') || 'index') === child.name);
    if (!entry) continue;
    display.set(child, moduleName(manifest.name, entry));
    if (child.name === 'index') child.name = 'main';
  }
  app.renderer.on(RendererEvent.BEGIN, () => {
    for (const [child, name] of display) child.name = name;
  });
  app.renderer.on(RendererEvent.END, (event) => {
    symbolPages[manifest.name] ??= {};
    const pages = symbolPages[manifest.name];
    for (const page of event.pages) {
      const parent = page.model.parent;
      if (parent && (parent.isProject() || parent.kindOf(ReflectionKind.Module)))
        pages[page.model.name] = pageLink(join(out, page.url)).replace(/\.md$/, '');
    }
  });
  const exported = (project.children ?? []).flatMap((c) =>
    c.kindOf(ReflectionKind.Module) ? (c.children ?? []) : [c],
  );

  rmSync(out, { recursive: true, force: true });
  if (exported.length === 0) {
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'index.md'),
      `# ${manifest.name}\n\n${manifest.description ?? ''}\n\nThis package exports nothing yet; its API appears here as soon as \`${pkg.entries.join('`, `')}\` exports something.\n`,
    );
    writeFileSync(join(out, 'typedoc-sidebar.json'), '[]\n');
    return { manifest, out, count: 0, warnings, display: [] };
  }
  await app.generateOutputs(project);
  if (app.logger.hasErrors()) throw new Error(`${manifest.name}: TypeDoc reported errors (above)`);
  return { manifest, out, count: exported.length, warnings, display: [...display.values()] };
}

const started = Date.now();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const results = [];
for (const pkg of PACKAGES) {
  const missing = pkg.entries.filter((e) => !existsSync(join(ROOT, 'packages', pkg.dir, e)));
  if (missing.length > 0) throw new Error(`packages/${pkg.dir}: entry point ${missing.join(', ')} not found`);
  results.push({ pkg, ...(await generate(pkg)) });
}

/**
 * The sidebar lists packages and their entry points only: every page carries the whole sidebar,
 * and each package's index page lists its symbols anyway. typedoc-vitepress-theme names module
 * groups by their routing name (`main`, `conformance`); show import specifiers, main first.
 */
function moduleLinks(items, pkgName, display) {
  if (display.length === 0) return [];
  return items
    .filter((item) => item.link)
    .map((item) => {
      const slug = item.link.replace(/\/$/, '').split('/').at(-1);
      return { text: slug === 'main' ? pkgName : `${pkgName}/${slug}`, link: item.link };
    })
    .sort((a, b) => a.text.length - b.text.length || a.text.localeCompare(b.text));
}

const sidebar = results.map(({ manifest, out, display }) => {
  const items = JSON.parse(readFileSync(join(out, 'typedoc-sidebar.json'), 'utf8'));
  const modules = moduleLinks(items, manifest.name, display);
  return {
    text: manifest.name,
    link: pageLink(join(out, 'index.md')),
    ...(modules.length ? { collapsed: true, items: modules } : {}),
  };
});
writeFileSync(join(OUT, 'sidebar.json'), `${JSON.stringify(sidebar, null, 2)}\n`);

const rows = results.map(
  ({ manifest, out, count }) =>
    `| [\`${manifest.name}\`](${pageLink(join(out, 'index.md'))}) | ${manifest.description ?? ''} | ${count} |`,
);
writeFileSync(
  join(OUT, 'index.md'),
  [
    '# API reference',
    '',
    '<!-- Generated by docs/scripts/api-reference.mjs from the TypeScript sources; do not edit. -->',
    '',
    "Generated at build time by TypeDoc from each published package's entry points, so it always",
    'matches the sources it was built from.',
    '',
    '| package | what it does | exports |',
    '| ------- | ------------ | ------: |',
    ...rows,
    '',
  ].join('\n'),
);

/**
 * TypeDoc reads a shape at the start of a comment (`[N, 1]: 1 = same`) as a Markdown link reference
 * to a file; the text renders as written, so these are noise.
 */
const SHAPE_NOT_A_PATH = /The relative path .* is not a file/;
for (const { manifest, count, warnings } of results) {
  const shown = warnings.filter((w) => process.env.API_REFERENCE_VERBOSE || !SHAPE_NOT_A_PATH.test(w));
  console.log(
    `api-reference: ${manifest.name}: ${count} exports${shown.length ? `, ${shown.length} warning${shown.length === 1 ? '' : 's'}:` : ''}`,
  );
  for (const w of shown) console.log(`  ${w}`);
}
console.log(`api-reference: wrote ${relative(ROOT, OUT)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
