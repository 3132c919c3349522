/** Help text rendered from command definitions (the docs' CLI reference uses the same data). */
import type { CommandDef } from './types.js';

export function usageLine(c: CommandDef): string {
  const pos = (c.positionals ?? []).join(' ');
  return `siamese ${c.name}${pos ? ` ${pos}` : ''} [options]`;
}

export function commandHelp(c: CommandDef): string {
  const rows = Object.entries(c.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const notes = [
      ...(o.default !== undefined && o.default !== false ? [`default: ${String(o.default)}`] : []),
      ...(o.config ? [`config: ${o.config}`] : []),
    ];
    return [flag, `${o.description}${notes.length ? ` (${notes.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  const lines = [`usage: ${usageLine(c)}`, '', c.summary];
  if (c.details) lines.push('', c.details);
  if (rows.length) lines.push('', 'options:', ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`));
  lines.push(`  ${'--verbose'.padEnd(width)}  print stack traces of errors`);
  if (c.examples?.length) lines.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export function mainHelp(commands: readonly CommandDef[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: siamese <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'siamese help <command>' (or 'siamese <command> --help') for a command's options,",
    "and 'siamese --version' (-V) for the version.",
  ].join('\n');
}
