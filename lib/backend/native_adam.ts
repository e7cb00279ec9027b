/**
 * Adam with one fused, in-place pass over each variable's memory on the `cpu` and `wasm` backends
 * (and one in-place dispatch per variable on `webgpu`, `webgpu_adam.ts`).
 *
 * tfjs's `tf.train.adam` runs 13 elementwise ops per variable, each allocating a new tensor the
 * size of the variable (for workload A's 4.9 M parameters: about 64 M element-ops and 250 MB of
 * fresh buffers per step). This optimiser reads the gradient and updates the weights and both
 * moments in one loop over the backends' own memory (see `native_heap.ts`); on webgpu, one compute
 * dispatch per variable does the same in the variables' GPU buffers.
 *
 * The update is Kingma & Ba 2015, Algorithm 1, written as tfjs writes it:
 * m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 * w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * State and weights are laid out like tfjs's `AdamOptimizer` (`getWeights()`: iterations, then the
 * first moments, then the second moments), so checkpoints are interchangeable.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Variable } from "../types.ts";
import { activeHeap, type TensorHeap } from "./native_heap.ts";
import { asmModule, at, instantiateOver, loop4, op, type ValType } from "./wasm_asm.ts";
import { webgpuAdamInPlace } from "./webgpu_adam.ts";

/** Gradients by variable name (`tf.NamedTensorMap`). */
export type NamedTensorMap = Record<string, Tensor>;

/** An optimiser's serialisable configuration (`tf.serialization.ConfigDict`). */
export type OptimizerConfig = tf.serialization.ConfigDict;

/** A named tensor, as in optimiser state lists (tfjs-core's `NamedTensor`). */
export interface NamedTensor {
  /** Variable or state name. */
  name: string;
  /** Its value. */
  tensor: Tensor;
}

interface Moments {
  name: string;
  m: Variable;
  v: Variable;
}

/**
 * Adam (Kingma & Ba 2015) that updates weights and moments in place in one pass per variable on
 * cpu and wasm, in one in-place dispatch per variable on webgpu, and with tfjs ops elsewhere. A
 * drop-in for `tf.train.adam(lr, b1, b2, eps)`.
 *
 * A weight whose memory is shared with another tensor (e.g. `tf.variable(t)` while `t` is alive)
 * is updated out of place on that step (the variable gets fresh memory, as with tfjs's Adam), and
 * in place from then on, so no other tensor ever sees a weight change.
 *
 * @example Train one step
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { FusedAdamOptimizer } from "./native_adam.ts";
 *
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.randomNormal([4, 1]));
 * const opt = new FusedAdamOptimizer(1e-3);
 * opt.minimize(() => tf.mean(tf.square(tf.matMul(tf.ones([8, 4]), w))) as tf.Scalar);
 * ```
 */
export class FusedAdamOptimizer extends tf.Optimizer {
  /** Serialisation name (same as tfjs's Adam: the config and weights have the same layout). */
  static get className(): string {
    return "Adam";
  }

  /** Step size. */
  readonly learningRate: number;
  /** Decay of the first moment. */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
  /** Added to sqrt(v_hat) (tfjs's backend epsilon, 1e-7, when not given). */
  readonly epsilon: number;
  #moments: Moments[] = [];
  #byName = new Map<string, Moments>();

  /**
   * Creates the optimiser.
   *
   * @param learningRate Step size.
   * @param beta1 First-moment decay (default 0.9).
   * @param beta2 Second-moment decay (default 0.999).
   * @param epsilon Denominator offset (default: the backend's epsilon, 1e-7 on cpu and wasm).
   */
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super();
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
      throw new RangeError(
        `Cannot create Adam as 'learningRate' must be a positive number: current value is ${learningRate}`,
      );
    }
    for (const [key, value] of [["beta1", beta1], ["beta2", beta2]] as const) {
      if (!(value >= 0 && value < 1)) {
        throw new RangeError(
          `Cannot create Adam as '${key}' must be in [0, 1): current value is ${value}`,
        );
      }
    }
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon ?? tf.backend().epsilon();
  }

  /**
   * Applies one Adam step for the given gradients.
   *
   * @param variableGradients Gradient per variable name (as from `computeGradients`).
   */
  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const entries: [string, Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const step = this.iterations + 1;
    const heap = activeHeap();
    for (const [name, grad] of entries) {
      const value = tf.engine().registeredVariables[name];
      if (value === undefined) {
        throw new TypeError(`Cannot apply Adam to '${name}' as no variable has that name`);
      }
      const moments = this.#momentsFor(name, value);
      if (grad === undefined || grad === null) continue;
      const done = heap !== null
        ? this.#inPlace(heap, value, moments, grad, step)
        : webgpuAdamInPlace(
          [{ w: value, m: moments.m, v: moments.v, g: grad }],
          this.#step(step),
        )[0]!;
      if (!done) this.#outOfPlace(value, moments, grad, step);
    }
    this.incrementIterations();
  }

  #momentsFor(name: string, value: Variable): Moments {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const moments = tf.tidy(() => ({
      name,
      m: tf.variable(tf.zerosLike(value), false),
      v: tf.variable(tf.zerosLike(value), false),
    }));
    this.#moments.push(moments);
    this.#byName.set(name, moments);
    return moments;
  }

  /** One fused loop over the backend's memory; false when it cannot be done in place. */
  #inPlace(
    heap: TensorHeap,
    value: Variable,
    { m, v }: Moments,
    grad: Tensor,
    step: number,
  ): boolean {
    return adamInPlace(heap, { w: value, m, v, g: grad }, this.#step(step));
  }

  #step(step: number): AdamStep {
    return {
      lr: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      step,
    };
  }

  /** The same update with tfjs ops (any backend); the variables get fresh memory. */
  #outOfPlace(value: Variable, { m, v }: Moments, grad: Tensor, step: number): void {
    tf.tidy(() => {
      const b1 = this.beta1, b2 = this.beta2;
      const newM = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
      const newV = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
      const mHat = tf.div(newM, 1 - b1 ** step);
      const vHat = tf.div(newV, 1 - b2 ** step);
      m.assign(newM);
      v.assign(newV);
      value.assign(
        tf.add(
          tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate),
          value,
        ),
      );
    });
  }

  /** Frees the moment variables. */
  override dispose(): void {
    super.dispose();
    for (const { m, v } of this.#moments) tf.dispose([m, v]);
    this.#moments = [];
    this.#byName.clear();
  }

  /**
   * The optimiser state in tfjs Adam's layout: iterations, first moments, second moments.
   *
   * @returns The named tensors (the moments are the live variables).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    return [
      await this.saveIterations(),
      ...this.#moments.map(({ name, m }) => ({ name: `${name}/m`, tensor: m })),
      ...this.#moments.map(({ name, v }) => ({ name: `${name}/v`, tensor: v })),
    ];
  }

  /**
   * Restores state saved by `getWeights()` (of this class or of tfjs's Adam).
   *
   * @param weightValues Iterations, first moments, second moments.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const half = rest.length / 2;
    for (const { m, v } of this.#moments) tf.dispose([m, v]);
    this.#moments = [];
    this.#byName.clear();
    for (let i = 0; i < half; i++) {
      const first = rest[i], second = rest[half + i];
      if (first === undefined || second === undefined) continue;
      const name = first.name.replace(/\/m$/, "");
      // Fresh copies: in-place updates must not write into the caller's tensors.
      const moments = tf.tidy(() => ({
        name,
        m: tf.variable(tf.add(first.tensor, 0), false),
        v: tf.variable(tf.add(second.tensor, 0), false),
      }));
      this.#moments.push(moments);
      this.#byName.set(name, moments);
    }
  }

  /**
   * The configuration (same keys as tfjs's Adam).
   *
   * @returns learningRate, beta1, beta2, epsilon.
   */
  override getConfig(): OptimizerConfig {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }
}

/** Hyper-parameters of one {@linkcode adamUpdate}. */
export interface AdamStep {
  /** Learning rate. */
  lr: number;
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Denominator offset. */
  epsilon: number;
  /** 1-based step number t (bias corrections 1 - beta^t). */
  step: number;
}

/**
 * One Adam step over flat arrays, in place (Kingma & Ba 2015, Algorithm 1, tfjs's epsilon
 * placement): m, v and w are updated from g.
 *
 * @param w Weights (updated).
 * @param m First moment (updated).
 * @param v Second moment (updated).
 * @param g Gradient.
 * @param hp Learning rate, betas, epsilon and the 1-based step.
 *
 * @example
 * ```ts
 * import { adamUpdate } from "./native_adam.ts";
 * const w = new Float32Array([1]), m = new Float32Array(1), v = new Float32Array(1);
 * adamUpdate(w, m, v, new Float32Array([2]), { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0, step: 1 });
 * console.log(w[0]); // 1 - 0.1 (the first step moves each weight by lr)
 * ```
 */
export function adamUpdate(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  hp: AdamStep,
): void {
  const n = w.length;
  if (m.length !== n || v.length !== n || g.length !== n) {
    throw new TypeError(
      `Cannot apply Adam as the arrays differ in length: w ${n}, m ${m.length}, v ${v.length}, g ${g.length}`,
    );
  }
  const b1 = hp.beta1, b2 = hp.beta2, c1 = 1 - b1, c2 = 1 - b2;
  const inv1 = 1 / (1 - b1 ** hp.step);
  const inv2 = 1 / (1 - b2 ** hp.step);
  const lr = hp.lr, eps = hp.epsilon;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + c1 * gi;
    const vi = b2 * v[i]! + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! - lr * (mi * inv1) / (Math.sqrt(vi * inv2) + eps);
  }
}

/** The four tensors of one in-place Adam step (see {@linkcode adamInPlace}). */
export interface AdamTensors {
  /** Weights (updated in place). */
  w: Tensor;
  /** First moment (updated in place). */
  m: Tensor;
  /** Second moment (updated in place). */
  v: Tensor;
  /** Gradient (read). */
  g: Tensor;
}

/**
 * One Adam step written straight into the memory of `w`, `m` and `v` on the cpu or wasm backend
 * (WebAssembly SIMD over the wasm heap, a JS loop on cpu), when that is invisible to every other
 * tensor: all four are float32 tensors held by `heap`, and `w`, `m`, `v` share their memory with
 * no other tensor (reference count 1). Returns `false` without touching anything otherwise; the
 * caller then runs the update with tfjs ops. On wasm, XNNPACK's cached packed weights of the
 * updated tensors are dropped.
 *
 * @param heap The backend's tensor memory (`activeHeap()`).
 * @param tensors Weights, moments and gradient.
 * @param hp Learning rate, betas, epsilon and the 1-based step.
 * @returns Whether the step was applied in place.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adamInPlace } from "./native_adam.ts";
 * import { activeHeap } from "./native_heap.ts";
 *
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.ones([4])), m = tf.variable(tf.zeros([4])), v = tf.variable(tf.zeros([4]));
 * const g = tf.fill([4], 2);
 * const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 };
 * console.log(adamInPlace(activeHeap()!, { w, m, v, g }, hp)); // true
 * console.log(await w.data()); // about 0.9 each
 * ```
 */
export function adamInPlace(heap: TensorHeap, tensors: AdamTensors, hp: AdamStep): boolean {
  const { w, m, v, g } = tensors;
  for (const t of [w, m, v, g]) {
    if (t.dtype !== "float32" || !heap.holds(t)) return false;
  }
  // Writing in place is only invisible to others when nothing else shares the memory.
  for (const t of [w, m, v]) {
    if (!heap.aliases(t) || heap.refCount(t) !== 1) return false;
  }
  if (w.size !== g.size || m.size !== w.size || v.size !== w.size) return false;
  const views = [heap.view(w), heap.view(m), heap.view(v), heap.view(g)] as const;
  if (heap.memory !== null) simdAdamUpdate(heap.memory, ...views, hp);
  else adamUpdate(...views, hp);
  for (const t of [w, m, v]) heap.invalidate(t);
  return true;
}

// ------------------------------------------------------------------ WebAssembly SIMD version

/**
 * A 4-wide SIMD Adam step, assembled below into a tiny WebAssembly module that imports the tfjs
 * wasm backend's own memory, so it updates tensors where they live. About 6x faster than the
 * scalar JavaScript loop (JS numbers are doubles, and a scalar sqrt plus divide per element is
 * the bottleneck): 4.0 ms against 25 ms for 4.9 M parameters here.
 *
 * `adam(w, m, v, g, n4, b1, c1, b2, c2, lrInv1, inv2, eps)` updates n4 groups of 4 floats at
 * byte addresses w, m, v, g:
 *   m = b1 m + c1 g;  v = b2 v + c2 g g;  w = w - (m lrInv1) / (sqrt(v inv2) + eps)
 * with c1 = 1 - b1, c2 = 1 - b2, lrInv1 = lr / (1 - b1^t), inv2 = 1 / (1 - b2^t).
 */
function adamWasmModule(shared: boolean): Uint8Array<ArrayBuffer> {
  // Params 0-3 pointers w m v g, 4 n4, 5-11 b1 c1 b2 c2 lrInv1 inv2 eps; locals 12 i, 13 end;
  // v128 14-20 splats of 5-11, 21 G, 22 M, 23 V.
  const [W, M, V, G, N4, I, END, sG, sM, sV] = [0, 1, 2, 3, 4, 12, 13, 21, 22, 23];
  const [B1, C1, B2, C2, LR, INV2, EPS] = [14, 15, 16, 17, 18, 19, 20];
  const body = [
    ...[5, 6, 7, 8, 9, 10, 11].flatMap((p, k) => [...op.get(p), ...op.splat, ...op.set(14 + k)]),
    ...loop4(N4, I, END, [
      ...[...at(G, I), ...op.load, ...op.set(sG)],
      // m = b1 m + c1 g
      ...[...at(M, I), ...op.load, ...op.get(B1), ...op.mul],
      ...[...op.get(C1), ...op.get(sG), ...op.mul, ...op.add, ...op.set(sM)],
      ...[...at(M, I), ...op.get(sM), ...op.store],
      // v = b2 v + c2 g g
      ...[...at(V, I), ...op.load, ...op.get(B2), ...op.mul],
      ...[...op.get(C2), ...op.get(sG), ...op.mul, ...op.get(sG), ...op.mul, ...op.add],
      ...[...op.set(sV), ...at(V, I), ...op.get(sV), ...op.store],
      // w = w - (m lrInv1) / (sqrt(v inv2) + eps)
      ...[...at(W, I), ...at(W, I), ...op.load, ...op.get(sM), ...op.get(LR), ...op.mul],
      ...[...op.get(sV), ...op.get(INV2), ...op.mul, ...op.sqrt, ...op.get(EPS), ...op.add],
      ...[...op.div, ...op.sub, ...op.store],
    ]),
  ];
  return asmModule({
    name: "adam",
    params: ["i32", "i32", "i32", "i32", "i32", "f32", "f32", "f32", "f32", "f32", "f32", "f32"],
    locals: ["i32", "i32", ...new Array<ValType>(10).fill("v128")],
    body,
  }, shared);
}

type WasmAdam = (
  w: number,
  m: number,
  v: number,
  g: number,
  n4: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  lrInv1: number,
  inv2: number,
  eps: number,
) => void;

/** The SIMD Adam bound to `memory`, or `null` where the runtime lacks wasm SIMD. */
function wasmAdamFor(memory: WebAssembly.Memory): WasmAdam | null {
  return instantiateOver("adam", memory, adamWasmModule) as WasmAdam | null;
}

/**
 * {@linkcode adamUpdate} on arrays that live in `memory` (the tfjs wasm heap), 4 lanes at a time
 * in WebAssembly SIMD; the last `n % 4` elements and runtimes without SIMD use the JS loop.
 *
 * @param memory The WebAssembly memory all four arrays are views of.
 * @param w Weights (updated).
 * @param m First moment (updated).
 * @param v Second moment (updated).
 * @param g Gradient.
 * @param hp Learning rate, betas, epsilon and the 1-based step.
 *
 * @example
 * ```ts
 * import { simdAdamUpdate } from "./native_adam.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const [w, m, v, g] = [0, 1, 2, 3].map((k) => new Float32Array(memory.buffer, 64 * k, 8));
 * g!.fill(2);
 * simdAdamUpdate(memory, w!, m!, v!, g!, { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0, step: 1 });
 * console.log(w![0]); // about -0.1
 * ```
 */
export function simdAdamUpdate(
  memory: WebAssembly.Memory,
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  hp: AdamStep,
): void {
  const n = w.length;
  const fn = wasmAdamFor(memory);
  const inMemory = [w, m, v, g].every((a) => a.buffer === memory.buffer);
  if (fn === null || !inMemory || m.length !== n || v.length !== n || g.length !== n) {
    adamUpdate(w, m, v, g, hp);
    return;
  }
  const n4 = n >>> 2;
  const inv1 = 1 / (1 - hp.beta1 ** hp.step);
  const inv2 = 1 / (1 - hp.beta2 ** hp.step);
  fn(
    w.byteOffset,
    m.byteOffset,
    v.byteOffset,
    g.byteOffset,
    n4,
    hp.beta1,
    1 - hp.beta1,
    hp.beta2,
    1 - hp.beta2,
    hp.lr * inv1,
    inv2,
    hp.epsilon,
  );
  const done = 4 * n4;
  if (done < n) {
    adamUpdate(w.subarray(done), m.subarray(done), v.subarray(done), g.subarray(done), hp);
  }
}
