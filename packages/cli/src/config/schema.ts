/**
 * A small schema language for JSON config files: one declaration gives the TypeScript type
 * (`Infer<typeof s>`), the checker (every bad field with its path, what was expected and what
 * was there) and the JSON Schema that editors use for completion. Only what the config needs:
 * integers, numbers, strings, booleans, enums, lists and objects whose fields are all
 * optional.
 */
import type { ConfigIssue } from '../errors.js';

export type JsonSchema = { readonly [key: string]: unknown };

export interface Schema<T> {
  /** For JSON Schema's `description` (editors show it on hover). */
  readonly description?: string;
  /** The value, or undefined after pushing one or more issues. */
  check(value: unknown, path: string, issues: ConfigIssue[]): T | undefined;
  jsonSchema(): JsonSchema;
  /** Phantom: the checked type. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** What a wrong value was, for messages: JSON for scalars (so "12" and 12 differ), a kind otherwise. */
export function got(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function issue(issues: ConfigIssue[], path: string, expected: string, value: unknown): undefined {
  issues.push({ path, message: `expected ${expected}, got ${got(value)}` });
  return undefined;
}

interface Described {
  readonly description?: string;
}

function withDescription(s: JsonSchema, d: Described): JsonSchema {
  return d.description ? { description: d.description, ...s } : s;
}

export interface NumberOptions extends Described {
  readonly min?: number;
  readonly max?: number;
  /** The bounds themselves are not allowed (a learning rate > 0). */
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}

/** `a positive integer`, `an integer >= 0`, `a number in [0, 1)`, ... */
function describeRange(kind: 'integer' | 'number', o: NumberOptions): string {
  const article = kind === 'integer' ? 'an' : 'a';
  const { min, max } = o;
  if (min === 0 && max === undefined && o.exclusiveMin) return `a positive ${kind}`;
  if (min === 1 && max === undefined && kind === 'integer' && !o.exclusiveMin) return 'a positive integer';
  if (min !== undefined && max !== undefined) {
    return `${article} ${kind} in ${o.exclusiveMin ? '(' : '['}${min}, ${max}${o.exclusiveMax ? ')' : ']'}`;
  }
  if (min !== undefined) return `${article} ${kind} ${o.exclusiveMin ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${article} ${kind} ${o.exclusiveMax ? '<' : '<='} ${max}`;
  return `${article} ${kind}`;
}

function numeric(kind: 'integer' | 'number', o: NumberOptions): Schema<number> {
  const expected = describeRange(kind, o);
  return {
    ...(o.description ? { description: o.description } : {}),
    check(v, path, issues) {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (kind === 'number' || Number.isInteger(v)) &&
        (o.min === undefined || (o.exclusiveMin ? v > o.min : v >= o.min)) &&
        (o.max === undefined || (o.exclusiveMax ? v < o.max : v <= o.max));
      return ok ? v : issue(issues, path, expected, v);
    },
    jsonSchema() {
      const s: Record<string, unknown> = { type: kind };
      if (o.min !== undefined) s[o.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = o.min;
      if (o.max !== undefined) s[o.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = o.max;
      return withDescription(s, o);
    },
  };
}

export const integer = (o: NumberOptions = {}): Schema<number> => numeric('integer', o);
export const number = (o: NumberOptions = {}): Schema<number> => numeric('number', o);

export function boolean(o: Described = {}): Schema<boolean> {
  return {
    ...(o.description ? { description: o.description } : {}),
    check: (v, path, issues) => (typeof v === 'boolean' ? v : issue(issues, path, 'true or false', v)),
    jsonSchema: () => withDescription({ type: 'boolean' }, o),
  };
}

export function string(o: Described = {}): Schema<string> {
  return {
    ...(o.description ? { description: o.description } : {}),
    check: (v, path, issues) =>
      typeof v === 'string' && v.trim() !== '' ? v : issue(issues, path, 'a non-empty string', v),
    jsonSchema: () => withDescription({ type: 'string', minLength: 1 }, o),
  };
}

/** One of the given strings or numbers. */
export function oneOf<const V extends readonly (string | number)[]>(
  values: V,
  o: Described = {},
): Schema<V[number]> {
  const shown = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  const expected =
    shown.length === 1
      ? shown[0]!
      : shown.length === 2
        ? `${shown[0]} or ${shown[1]}`
        : `one of ${shown.join(', ')}`;
  return {
    ...(o.description ? { description: o.description } : {}),
    check: (v, path, issues) =>
      (typeof v === 'string' || typeof v === 'number') && values.includes(v)
        ? (v as V[number])
        : issue(issues, path, expected, v),
    jsonSchema: () => withDescription({ enum: [...values] }, o),
  };
}

export interface ListOptions extends Described {
  readonly minItems?: number;
}

export function list<T>(item: Schema<T>, o: ListOptions = {}): Schema<T[]> {
  return {
    ...(o.description ? { description: o.description } : {}),
    check(v, path, issues) {
      if (!Array.isArray(v)) return issue(issues, path, 'a list', v);
      if (o.minItems !== undefined && v.length < o.minItems) {
        issues.push({
          path,
          message: `expected a list of at least ${o.minItems} item${o.minItems === 1 ? '' : 's'}, got ${v.length}`,
        });
        return undefined;
      }
      const before = issues.length;
      const out = v.map((x, i) => item.check(x, `${path}[${i}]`, issues));
      return issues.length === before ? (out as T[]) : undefined;
    },
    jsonSchema() {
      return withDescription(
        { type: 'array', items: item.jsonSchema(), ...(o.minItems ? { minItems: o.minItems } : {}) },
        o,
      );
    },
  };
}

export type Shape = { readonly [key: string]: Schema<unknown> };
/** An object of optional fields. */
export type ObjectOf<S extends Shape> = { -readonly [K in keyof S]?: Infer<S[K]> };

export interface ObjectOptions<S extends Shape> extends Described {
  /** Checks across fields, run when every field is valid; push issues with full paths. */
  readonly refine?: (value: ObjectOf<S>, path: string, issues: ConfigIssue[]) => void;
  /** Keys accepted and ignored (e.g. `$schema`). */
  readonly ignore?: readonly string[];
}

/** Edit distance, for "did you mean" on unknown fields. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function join(path: string, key: string): string {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${k}` : k;
}

export function object<S extends Shape>(shape: S, o: ObjectOptions<S> = {}): Schema<ObjectOf<S>> {
  const known = Object.keys(shape);
  return {
    ...(o.description ? { description: o.description } : {}),
    check(v, path, issues) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(issues, path, 'an object', v);
      const before = issues.length;
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(v)) {
        if (o.ignore?.includes(key)) continue;
        const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
        if (!field) {
          const near = known
            .map((k) => ({ k, d: distance(k.toLowerCase(), key.toLowerCase()) }))
            .filter((c) => c.d <= Math.max(1, Math.floor(c.k.length / 3)))
            .sort((a, b) => a.d - b.d)[0];
          issues.push({
            path: join(path, key),
            message: near
              ? `unknown field; did you mean '${near.k}'?`
              : `unknown field (expected ${known.map((k) => `'${k}'`).join(', ')})`,
          });
          continue;
        }
        const checked = field.check(value, join(path, key), issues);
        if (checked !== undefined) out[key] = checked;
      }
      if (issues.length > before) return undefined;
      o.refine?.(out as ObjectOf<S>, path, issues);
      return issues.length > before ? undefined : (out as ObjectOf<S>);
    },
    jsonSchema() {
      const properties: Record<string, unknown> = {};
      for (const key of o.ignore ?? []) properties[key] = { type: 'string' };
      for (const [key, s] of Object.entries(shape)) properties[key] = s.jsonSchema();
      return withDescription({ type: 'object', additionalProperties: false, properties }, o);
    },
  };
}
