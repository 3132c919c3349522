/** Small helpers that write Python source text: literals, identifiers, attribute paths. */

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except ' +
    'finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

/** nn.Module attributes a child module must not shadow (`self.training`, `self.forward`, ...). */
const MODULE_ATTRS = new Set([
  'training',
  'forward',
  'eval',
  'train',
  'state_dict',
  'parameters',
  'buffers',
  'children',
  'modules',
  'to',
  'cuda',
  'cpu',
  'type',
  'float',
  'double',
  'half',
  'apply',
  'register_buffer',
  'register_parameter',
  'add_module',
]);

/** A Python float or int literal that reads back exactly (JavaScript's shortest round-trip form). */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot write ${v} as a Python literal`);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v);
  const s = String(v);
  return s.includes('e') ? s.replace('e+', 'e') : s;
}

/** A float literal, `1.0` rather than `1` (for eps, momentum, ...). */
export function float(v: number): string {
  const s = num(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

export function bool(v: boolean): string {
  return v ? 'True' : 'False';
}

export function str(v: string): string {
  return JSON.stringify(v);
}

/**
 * `base ** exponent`, hugged (`x**2`) when both sides are simple (names, attributes, numbers), as
 * black writes it.
 */
export function power(base: string, exponent: string): string {
  const simple = (s: string) => /^-?([A-Za-z_][\w.]*|[\d.]+(e-?\d+)?)$/.test(s);
  return simple(base) && simple(exponent) ? `${base}**${exponent}` : `${base} ** ${exponent}`;
}

/** `(1, 2)` for a tuple of ints; `1` when both are equal and `collapse` is set. */
export function ints(v: readonly number[], collapse = false): string {
  if (collapse && v.length > 0 && v.every((x) => x === v[0])) return num(v[0]!);
  return v.length === 1 ? `(${num(v[0]!)},)` : `(${v.map(num).join(', ')})`;
}

export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !KEYWORDS.has(s);
}

/** A child name usable as `parent.name` (not shadowing nn.Module's own attributes). */
export function isAttrName(s: string): boolean {
  return isIdentifier(s) && !MODULE_ATTRS.has(s) && !s.startsWith('_');
}

/** A local variable name from an IR value name: `a/encoder.layer1.0.conv1` -> `a_encoder_layer1_0_conv1`. */
export function variable(name: string): string {
  let v = name
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  if (v === '' || /^[0-9]/.test(v)) v = `v_${v}`;
  return KEYWORDS.has(v) || v === 'self' ? `${v}_` : v;
}

/**
 * The Python expression reaching a dotted module path from `root`: identifiers as attributes,
 * digits as `[i]` (the generated Tree container indexes its children), anything else by getattr.
 */
export function reach(root: string, path: string): string {
  let out = root;
  for (const part of path.split('.')) {
    if (/^[0-9]+$/.test(part)) out += `[${part}]`;
    else if (isAttrName(part)) out += `.${part}`;
    else out = `getattr(${out}, ${str(part)})`;
  }
  return out;
}
