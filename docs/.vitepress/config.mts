import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DefaultTheme, defineConfig } from 'vitepress';

const DOCS = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(DOCS, '..');

/**
 * Where links to repository files outside docs/ point: the root package.json's `repository`, when
 * it has one. Without it such a link is rendered as its text (the path), never as a broken link.
 */
function repositoryUrl(): string | undefined {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    repository?: string | { url?: string };
  };
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return url?.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** The API reference's sidebar, written by scripts/api-reference.mjs (missing until it has run). */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const file = resolve(DOCS, 'reference/api/sidebar.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DefaultTheme.SidebarItem[]) : [];
}

interface Token {
  type: string;
  tag: string;
  content: string;
  attrs: [string, string][] | null;
  children: Token[] | null;
  attrGet(name: string): string | null;
}

/**
 * Relative links that leave docs/ (`../packages/core/src/ops/table.ts`, `../README.md`) would be
 * dead on the site: point them at the repository, or keep just their text.
 */
function repoLinks(md: {
  core: {
    ruler: { push(name: string, rule: (state: { tokens: Token[]; env: { path?: string } }) => void): void };
  };
}): void {
  const repo = repositoryUrl();
  md.core.ruler.push('siamese_repo_links', (state) => {
    const page = state.env.path;
    if (!page) return;
    for (const block of state.tokens) {
      const children = block.children ?? [];
      for (let i = 0; i < children.length; i++) {
        const t = children[i]!;
        if (t.type !== 'link_open') continue;
        const href = t.attrGet('href') ?? '';
        if (/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(href)) continue;
        const target = resolve(dirname(page), decodeURI(href.replace(/[?#].*$/, '')));
        const inDocs = relative(DOCS, target);
        if (!inDocs.startsWith('..')) continue;
        const inRepo = relative(ROOT, target).replaceAll('\\', '/');
        if (repo && !inRepo.startsWith('..')) {
          const kind = existsSync(target) && statSync(target).isDirectory() ? 'tree' : 'blob';
          const at = t.attrs!.findIndex(([name]) => name === 'href');
          t.attrs![at] = ['href', `${repo}/${kind}/HEAD/${inRepo}`];
          continue;
        }
        // No repository to point at: keep the text, drop the link.
        let depth = 0;
        for (let j = i; j < children.length; j++) {
          const c = children[j]!;
          if (c.type === 'link_open') depth++;
          if (c.type === 'link_close' && --depth === 0) {
            c.type = 'html_inline';
            c.content = '</span>';
            break;
          }
        }
        t.type = 'html_inline';
        t.content = `<span class="repo-path" title="${inRepo.replaceAll('"', '&quot;')}">`;
      }
    }
  });
}

export default defineConfig({
  title: 'siamese',
  description:
    'Train Siamese neural networks that tell whether two images show the same thing, and serve them fast, in TypeScript.',
  base: process.env.DOCS_BASE ?? '/',
  cleanUrls: true,
  // A dead internal link fails the build: this is the docs' link check (CI builds the site).
  ignoreDeadLinks: false,
  srcExclude: ['scripts/**', '**/README.md'],
  markdown: {
    config: (md) => repoLinks(md as unknown as Parameters<typeof repoLinks>[0]),
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/' },
      { text: 'Architecture', link: '/architecture' },
      { text: 'CLI', link: '/reference/cli' },
      { text: 'API', link: '/reference/api/' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Install', link: '/guide/' },
          { text: 'Quick start', link: '/guide/quick-start' },
          { text: 'Models and artifacts', link: '/guide/models' },
          { text: 'Training on your own images', link: '/guide/training' },
          { text: 'Choosing a loss and a combine mode', link: '/guide/losses' },
          { text: 'Starting from pretrained weights', link: '/guide/transfer' },
          { text: 'Beyond one machine (PyTorch)', link: '/guide/distributed' },
          { text: 'Reading the report, picking a threshold', link: '/guide/evaluation' },
          { text: 'Export and deploy', link: '/guide/deploy' },
          { text: 'Serving over HTTP', link: '/guide/serve' },
          { text: 'In the browser', link: '/guide/browser' },
          { text: 'Search at scale', link: '/guide/search' },
          { text: 'int8 on CPU', link: '/guide/int8' },
          { text: 'GPU set-up', link: '/guide/gpu' },
        ],
      },
      {
        text: 'Architecture',
        items: [
          { text: 'The graph IR and the op table', link: '/architecture' },
          { text: 'Backends', link: '/architecture/backends' },
        ],
      },
      { text: 'CLI reference', items: [{ text: 'siamese', link: '/reference/cli' }] },
      {
        text: 'API reference',
        collapsed: false,
        items: [{ text: 'Packages', link: '/reference/api/' }, ...apiSidebar()],
      },
      { text: 'Benchmarks', items: [{ text: 'Throughput', link: '/benchmarks' }] },
    ],
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
});
