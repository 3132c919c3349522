/**
 * The emit context: collects the nn.Module tree (modules at the IR's dotted parameter paths, and
 * parameters or buffers no module owns) while a graph's nodes are lowered, so the generated
 * module's state_dict keys are exactly the IR's parameter names.
 */
import type { DType, Param } from '@siamese/core';
import { bool, ints, isAttrName, reach, str } from './python.js';

/** torch dtypes by IR dtype. */
export const TORCH_DTYPES: Readonly<Record<DType, string>> = {
  float32: 'torch.float32',
  int64: 'torch.int64',
  int32: 'torch.int32',
  uint8: 'torch.uint8',
  bool: 'torch.bool',
};

interface Declared {
  readonly path: string;
  /** Python constructor of a module, or undefined for a loose parameter or buffer. */
  readonly ctor?: string;
  readonly param?: Param;
}

export class EmitContext {
  private readonly declared = new Map<string, Declared>();
  /** Parameter names owned by a declared module. */
  private readonly owned = new Set<string>();

  /**
   * @param params the graph's parameters and buffers by name
   * @param where `the model` or `the loss`, for messages; a context without `self` (the loss) owns nothing
   */
  constructor(
    private readonly params: ReadonlyMap<string, Param>,
    private readonly where: string,
    private readonly hasSelf: boolean,
  ) {}

  /** Whether the code is a module's `forward` (has `self`, so `self.training`), not the loss function. */
  get inModule(): boolean {
    return this.hasSelf;
  }

  /** `the model` or `the loss`, for messages. */
  get place(): string {
    return this.where;
  }

  /** The parameter behind an IR value name, if it is one. */
  paramOf(value: string): Param | undefined {
    return this.params.get(value);
  }

  /**
   * The module path owning parameters `<path>.<local>` for each IR input given, when every given
   * input is a parameter with that local name under one common path (torchvision's `conv1.weight`),
   * else undefined (the lowering then emits the functional form).
   */
  ownerPath(inputs: readonly (readonly [value: string | undefined, local: string])[]): string | undefined {
    if (!this.hasSelf) return undefined;
    let path: string | undefined;
    for (const [value, local] of inputs) {
      if (!value) continue;
      const p = this.params.get(value);
      if (!p?.name.endsWith(`.${local}`)) return undefined;
      const owner = p.name.slice(0, -local.length - 1);
      if (path !== undefined && owner !== path) return undefined;
      path = owner;
    }
    return path;
  }

  /**
   * Declares the module `ctor` at `path` (once; the same declaration again is the shared module,
   * as an encoder applied to both images) owning `params`, and returns the Python expression for it.
   */
  module(path: string, ctor: string, params: readonly string[]): string {
    const seen = this.declared.get(path);
    if (seen && seen.ctor !== ctor) {
      throw new Error(
        `${this.where}: module '${path}' is declared as ${seen.ctor ?? 'a parameter'} and as ${ctor}`,
      );
    }
    for (const p of params) {
      if (this.declared.has(p))
        throw new Error(`${this.where}: '${p}' is read both directly and by module '${path}'`);
      this.owned.add(p);
    }
    if (!seen) this.declared.set(path, { path, ctor });
    return reach('self', path);
  }

  /** The Python expression for a parameter or buffer read directly (registered on the module tree). */
  param(name: string): string {
    const p = this.params.get(name);
    if (!p) throw new Error(`${this.where}: '${name}' is not a parameter`);
    if (!this.hasSelf) {
      throw new Error(
        `${this.where} reads parameter '${name}': the PyTorch target emits parameter-free losses only (bce, contrastive)`,
      );
    }
    if (this.owned.has(name))
      throw new Error(`${this.where}: '${name}' is read both directly and by its module`);
    if (!this.declared.has(name)) this.declared.set(name, { path: name, param: p });
    return reach('self', name);
  }

  /**
   * Whether the module owning `p` starts it at its IR initializer by itself: nn.BatchNorm's weight 1,
   * bias 0 and running statistics (a zero-initialized residual BatchNorm weight is not).
   */
  constructorGives(p: Param): boolean {
    const i = p.name.lastIndexOf('.');
    const owner = this.declared.get(p.name.slice(0, i));
    if (!owner?.ctor?.startsWith('nn.BatchNorm')) return false;
    const local = p.name.slice(i + 1);
    const kind = p.init.kind;
    return local === 'weight' || local === 'running_var' ? kind === 'ones' : kind === 'zeros';
  }

  /** Every parameter or buffer of `names` is declared (owned by a module or loose). */
  covers(name: string): boolean {
    return this.owned.has(name) || this.declared.has(name);
  }

  /** `__init__` lines building the module tree: Tree containers, then each module or parameter in first-use order. */
  initLines(): string[] {
    const lines: string[] = [];
    const containers = new Set<string>(['']);
    const attach = (path: string, value: string): void => {
      const i = path.lastIndexOf('.');
      const [parent, child] = i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
      ensure(parent);
      const host = parent === '' ? 'self' : reach('self', parent);
      lines.push(
        isAttrName(child) ? `${host}.${child} = ${value}` : `${host}.add_module(${str(child)}, ${value})`,
      );
    };
    const ensure = (path: string): void => {
      if (containers.has(path)) return;
      containers.add(path);
      attach(path, 'Tree()');
    };
    for (const d of this.declared.values()) {
      if (d.ctor) {
        attach(d.path, d.ctor);
        continue;
      }
      const p = d.param!;
      const i = p.name.lastIndexOf('.');
      const [parent, local] = i < 0 ? ['', p.name] : [p.name.slice(0, i), p.name.slice(i + 1)];
      ensure(parent);
      const host = parent === '' ? 'self' : reach('self', parent);
      const empty = `torch.zeros(${ints(p.shape as number[])}, dtype=${TORCH_DTYPES[p.dtype]})`;
      lines.push(
        p.kind === 'parameter'
          ? `${host}.register_parameter(${str(local)}, nn.Parameter(${empty}, requires_grad=${bool(p.trainable)}))`
          : `${host}.register_buffer(${str(local)}, ${empty})`,
      );
    }
    return lines;
  }
}
