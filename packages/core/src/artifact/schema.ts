/**
 * The building blocks of model.json's schema: each check returns the typed value or throws a
 * FieldProblem that names the field's path and says what it must be and what it was. The first
 * problem found is the one reported (a model file is written by a program, not by hand: one
 * line is enough to say where it went wrong).
 */

/** One bad field: `threshold.probability must be a number in [0, 1], got "high"`. */
export class FieldProblem extends Error {
  override name = 'FieldProblem';
}

export type Check<T> = (value: unknown, path: string) => T;
/** A field that may be absent (a missing key and `undefined` read the same). */
export type Optional<T> = Check<T | undefined> & { readonly optional: true };

/** How a wrong value reads in a message: JSON for scalars and short lists, its kind otherwise. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  if (s.length <= 60) return s;
  return Array.isArray(v) ? `a list of ${v.length}` : `${s.slice(0, 60)}…`;
}

export function problem(path: string, expected: string, value: unknown): never {
  throw new FieldProblem(`${path} must be ${expected}, got ${shown(value)}`);
}

export function optional<T>(check: Check<T>): Optional<T> {
  const c = (v: unknown, path: string) => (v === undefined ? undefined : check(v, path));
  return Object.assign(c, { optional: true as const });
}

/** A number in [min, max] (`max` excluded with `maxExcluded`); messages show `shownMax` when given. */
export function number(
  min: number,
  max: number,
  o: { readonly maxExcluded?: boolean; readonly shownMax?: number } = {},
): Check<number> {
  const expected = `a number in [${min}, ${o.shownMax ?? max}${o.maxExcluded ? ')' : ']'}`;
  return (v, path) =>
    typeof v === 'number' && v >= min && (o.maxExcluded ? v < max : v <= max)
      ? v
      : problem(path, expected, v);
}

export const finite: Check<number> = (v, path) =>
  typeof v === 'number' && Number.isFinite(v) ? v : problem(path, 'a finite number', v);

export const positiveInteger: Check<number> = (v, path) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : problem(path, 'a positive integer', v);

export const boolean: Check<boolean> = (v, path) =>
  typeof v === 'boolean' ? v : problem(path, 'true or false', v);

export const string: Check<string> = (v, path) => (typeof v === 'string' ? v : problem(path, 'a string', v));

export function oneOf<const V extends string>(values: readonly V[]): Check<V> {
  const expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  return (v, path) => ((values as readonly unknown[]).includes(v) ? (v as V) : problem(path, expected, v));
}

export function list<T>(item: Check<T>, length?: number): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v) || (length !== undefined && v.length !== length))
      problem(path, length === undefined ? 'a list' : `a list of ${length}`, v);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON object with no keys but `known`. */
export function record(v: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(v)) problem(path, 'an object', v);
  const unknown = Object.keys(v).find((k) => !known.includes(k));
  if (unknown !== undefined) {
    const at = path ? `${path}.${unknown}` : unknown;
    throw new FieldProblem(`${at} is not a known field (known: ${known.join(', ')})`);
  }
  return v;
}

type Shape = Readonly<Record<string, Check<unknown>>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
export type Infer<S extends Shape> = { [K in RequiredKeys<S>]: ReturnType<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<ReturnType<S[K]>, undefined>;
};

/** An object of the given fields, none other; absent optional fields stay absent. */
export function object<S extends Shape>(shape: S): Check<Infer<S>> {
  const known = Object.keys(shape);
  return (v, path) => {
    const raw = record(v, path, known);
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const value = check(raw[k], path ? `${path}.${k}` : k);
      if (value !== undefined) out[k] = value;
    }
    return out as Infer<S>;
  };
}
