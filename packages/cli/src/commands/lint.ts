/**
 * `siamese lint DATA`: what would spoil training, found before it starts: datasets' `lint` over a
 * data source (optionally with the parts of a split), one line per problem and a summary.
 */
import { openData } from '../infer/data.js';
import { jsonOption } from './options.js';
import { nonNegativeInt, str } from './parse.js';
import type { CommandDef } from './types.js';

export const lintCommand: CommandDef = {
  name: 'lint',
  summary: 'check a data source: unreadable images, classes of one image, duplicate images',
  positionals: ['DATA'],
  options: {
    split: {
      type: 'string',
      value: 'FILE',
      description:
        'a split manifest (written by training): an image in two of its parts is an error (a test image trained on)',
    },
    'max-warnings': {
      type: 'string',
      value: 'N',
      description: 'exit 1 when there are more than N warnings (0: duplicates across classes fail too)',
    },
    json: jsonOption,
  },
  details:
    "DATA is what --data takes: 'mnist' (or mnist:0-4), a folder with a folder of images per class (or Omniglot's alphabet/character tree), or a CSV of pairs. Every image is decoded (each corrupt, truncated, empty or non-image file is named) and hashed: identical images within a class, across classes and across the parts of --split are reported, as are classes with one image and files that are not images.\n\n" +
    'Exit code 0 when there are no errors (warnings allowed, up to --max-warnings), 1 when lint finds errors (unreadable images, missing files, an image in two parts of the split) or too many warnings, 2 when DATA or a flag cannot be used.',
  examples: [
    'siamese lint omniglot/images_background',
    'siamese lint photos/ --max-warnings 0',
    'siamese lint mnist --split runs/mnist/split.json --json',
  ],
  async run(args, io) {
    const source = args.positionals[0] as string;
    const limit = str(args.values['max-warnings']);
    const maxWarnings = limit === undefined ? undefined : nonNegativeInt('max-warnings', limit);
    const ds = await import('@siamese/datasets');
    // Nothing is checked on opening: lint decodes every file and names each bad one, not the first.
    const { dataset } = await openData({ source, check: 'none', skipInvalid: true });
    const splitFile = str(args.values.split);
    const target =
      splitFile === undefined
        ? dataset
        : ds.applyManifest(dataset, await ds.readManifest(splitFile), splitFile);
    const report = await ds.lint(target);
    const errors = report.issues.filter((i) => i.severity === 'error').length;
    const warnings = report.issues.length - errors;
    const tooMany = maxWarnings !== undefined && warnings > maxWarnings;
    const code = errors > 0 || tooMany ? 1 : 0;
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            data: source,
            ...(splitFile !== undefined ? { split: splitFile } : {}),
            ok: code === 0,
            images: report.images,
            classes: report.classes,
            errors,
            warnings,
            ...(maxWarnings !== undefined ? { maxWarnings } : {}),
            issues: report.issues,
          },
          null,
          2,
        ),
      );
      return code;
    }
    io.out(ds.formatLint(report));
    if (tooMany) io.out(`too many warnings: ${warnings} (--max-warnings ${maxWarnings})`);
    return code;
  },
};
