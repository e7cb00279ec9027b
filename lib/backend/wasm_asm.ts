/**
 * A tiny WebAssembly assembler for the in-place SIMD loops over the tfjs wasm heap (Adam in
 * `native_adam.ts`, the weight EMA in `native_ema.ts`).
 *
 * Each loop is a few dozen instructions; assembling them here at start-up needs no toolchain and no
 * binary in the repository. A module imports one memory, `env.memory` (the tfjs wasm backend's
 * heap, so the loops read and write tensors where they live), and exports one function taking byte
 * addresses, a count of 4-lane groups and `f32` constants. Instructions are byte arrays; opcodes
 * follow the WebAssembly 2.0 core spec (SIMD ones are `0xfd`-prefixed).
 *
 * @module
 */

/** A value type of a parameter or local. */
export type ValType = "i32" | "f32" | "v128";

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];

/**
 * The instructions the loops use, as byte arrays.
 *
 * @example `local.get 0`, then a 4-lane load from that address
 * ```ts
 * import { op } from "./wasm_asm.ts";
 * console.log([...op.get(0), ...op.load]); // [32, 0, 253, 0, 4, 0]
 * ```
 */
export const op = {
  /** `local.get i` */
  get: (i: number): number[] => [0x20, ...uleb(i)],
  /** `local.set i` */
  set: (i: number): number[] => [0x21, ...uleb(i)],
  /** `v128.load` (16-byte alignment hint, offset 0) */
  load: [...simd(0x00), 4, 0],
  /** `v128.store` (16-byte alignment hint, offset 0) */
  store: [...simd(0x0b), 4, 0],
  /** `f32x4.splat` */
  splat: simd(0x13),
  /** `f32x4.sqrt` */
  sqrt: simd(0xe3),
  /** `f32x4.add` */
  add: simd(0xe4),
  /** `f32x4.sub` */
  sub: simd(0xe5),
  /** `f32x4.mul` */
  mul: simd(0xe6),
  /** `f32x4.div` */
  div: simd(0xe7),
} as const;

/**
 * `for (i = 0; i < 16 · n4; i += 16) body`, skipped when `n4` is 0: the loop over 4-lane groups.
 * In `body`, {@linkcode at}`(p, i)` addresses the current group of the array at address local `p`.
 *
 * @param n4 Local holding the number of groups.
 * @param i A free i32 local (the byte offset).
 * @param end A free i32 local (the end offset).
 * @param body The loop body.
 * @returns The instructions.
 *
 * @example
 * ```ts
 * import { loop4 } from "./wasm_asm.ts";
 * console.log(loop4(2, 3, 4, []).length); // 30
 * ```
 */
export function loop4(n4: number, i: number, end: number, body: number[]): number[] {
  return [
    ...op.get(n4),
    ...[0x45, 0x04, 0x40, 0x0f, 0x0b], // i32.eqz; if: return; end
    ...op.get(n4),
    ...[0x41, 4, 0x74], // i32.const 4; i32.shl
    ...op.set(end), // end = n4 << 4 (i starts at 0, as every local does)
    ...[0x03, 0x40], // loop
    ...body,
    ...op.get(i),
    ...[0x41, 16, 0x6a], // i32.const 16; i32.add
    ...[0x22, ...uleb(i)], // local.tee i
    ...op.get(end),
    ...[0x49, 0x0d, 0, 0x0b], // i32.lt_u; br_if 0; end loop
  ];
}

/**
 * The address of the current 4-lane group of the array at address local `p`: `p + i`.
 *
 * @param p Local holding the array's byte address.
 * @param i Local holding the loop's byte offset.
 * @returns The instructions.
 *
 * @example
 * ```ts
 * import { at } from "./wasm_asm.ts";
 * console.log(at(0, 5)); // [32, 0, 32, 5, 106]
 * ```
 */
export function at(p: number, i: number): number[] {
  return [...op.get(p), ...op.get(i), 0x6a];
}

/** The one exported function of a module. */
export interface AsmFunction {
  /** Export name. */
  name: string;
  /** Parameter types (locals 0 … params.length − 1). */
  params: ValType[];
  /** Further locals, numbered after the parameters. */
  locals: ValType[];
  /** The instructions (without the final `end`). */
  body: number[];
}

/**
 * A module importing `env.memory` and exporting `fn` as `(params) -> ()`.
 *
 * @param fn The function.
 * @param shared Whether the imported memory is shared (tfjs's threaded build): a shared import must
 *   declare a maximum, here 4 GiB.
 * @returns The module's bytes.
 *
 * @example A function that does nothing
 * ```ts
 * import { asmModule } from "./wasm_asm.ts";
 * console.log(WebAssembly.validate(asmModule({ name: "nop", params: [], locals: [], body: [] }, false))); // true
 * ```
 */
export function asmModule(fn: AsmFunction, shared: boolean): Uint8Array<ArrayBuffer> {
  const name = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const runs: [number, ValType][] = []; // locals as (count, type) runs
  for (const t of fn.locals) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  const code = [
    ...uleb(runs.length),
    ...runs.flatMap(([n, t]) => [...uleb(n), VALTYPE[t]]),
    ...fn.body,
    0x0b,
  ];
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // magic, version 1
    ...section(1, [1, 0x60, ...uleb(fn.params.length), ...fn.params.map((t) => VALTYPE[t]), 0]),
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, ...limits]), // import memory
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name(fn.name), 0x00, 0]), // export it
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

const instances = new WeakMap<WebAssembly.Memory, Map<string, WebAssembly.ExportValue | null>>();

/**
 * The function of a module built by {@linkcode asmModule}, instantiated over `memory` once per
 * memory and name.
 *
 * @param name The function's export name (also the cache key).
 * @param memory The memory to import (the tfjs wasm heap).
 * @param build Builds the module for a shared or unshared memory.
 * @returns The function, or `null` where the runtime rejects the module (no wasm SIMD): callers
 *   then run their JavaScript loop.
 *
 * @example
 * ```ts
 * import { asmModule, instantiateOver } from "./wasm_asm.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const nop = (shared: boolean) => asmModule({ name: "nop", params: [], locals: [], body: [] }, shared);
 * console.log(typeof instantiateOver("nop", memory, nop)); // "function"
 * ```
 */
export function instantiateOver(
  name: string,
  memory: WebAssembly.Memory,
  build: (shared: boolean) => Uint8Array<ArrayBuffer>,
): WebAssembly.ExportValue | null {
  let byName = instances.get(memory);
  if (byName === undefined) instances.set(memory, byName = new Map());
  const known = byName.get(name);
  if (known !== undefined) return known;
  let fn: WebAssembly.ExportValue | null;
  try {
    const shared = typeof SharedArrayBuffer !== "undefined" &&
      memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(build(shared));
    fn = new WebAssembly.Instance(module, { env: { memory } }).exports[name] ?? null;
  } catch {
    fn = null; // no SIMD (or an incompatible memory)
  }
  byName.set(name, fn);
  return fn;
}
