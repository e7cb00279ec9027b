/**
 * Fast, seedable standard-normal noise written straight into backend memory.
 *
 * `tf.randomNormal` draws each value in JavaScript with seedrandom's alea and the polar method,
 * then copies the buffer into a tensor: about 40 ns per value here (4 ms for workload A's
 * 128 x 784 noise per step, 31 ms for workload C's 1000 x 784). {@linkcode GaussianStream} uses
 * xoshiro128** (Blackman & Vigna 2018) and the ziggurat method (Marsaglia & Tsang 2000, 128
 * layers), about 5 ns per value, and on the cpu and wasm backends writes into the new tensor's own
 * memory. Its state is 4 int32 words that can be saved and restored (checkpoints).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { activeHeap, sizeOf } from "./native_heap.ts";
import type { Tensor } from "../types.ts";

// Ziggurat tables for the standard normal, 128 layers (Marsaglia & Tsang 2000, "The Ziggurat
// Method for Generating Random Variables", J. Stat. Softw. 5(8); constants of their RNOR).
const LAYERS = 128;
/** Right edge of the base layer. */
const ZIG_R = 3.442619855899;
/** Area of each layer. */
const ZIG_V = 9.91256303526217e-3;
/** Acceptance thresholds on |int32| per layer. */
const KN = new Int32Array(LAYERS);
/** Scale from int32 to x per layer. */
const WN = new Float64Array(LAYERS);
/** Density exp(-x^2 / 2) at each layer edge. */
const FN = new Float64Array(LAYERS);
{
  const m1 = 2 ** 31;
  let dn = ZIG_R, tn = ZIG_R;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * m1);
  KN[1] = 0;
  WN[0] = q / m1;
  WN[LAYERS - 1] = dn / m1;
  FN[0] = 1;
  FN[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * m1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m1;
  }
}

/** Fills `bits` with xoshiro128** outputs, advancing `state` (4 int32 words). */
function fillBits(bits: Int32Array, state: Int32Array): void {
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    const r = Math.imul(b, 5);
    bits[i] = Math.imul((r << 7) | (r >>> 25), 9);
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

const single = new Int32Array(1);

/** Scratch for the raw bits of {@linkcode GaussianStream.fill}, shared by all streams. */
let scratch = new Int32Array(0);

/** Next int32 of the stream. */
function nextInt(state: Int32Array): number {
  fillBits(single, state);
  return single[0]!;
}

/** Uniform in (0, 1). */
function nextUniform(state: Int32Array): number {
  return ((nextInt(state) >>> 0) + 0.5) / 2 ** 32;
}

/** The ziggurat's rare path (about 1.2% of draws): wedges and the tail. */
function slowNormal(state: Int32Array, hz: number, iz: number): number {
  for (;;) {
    let x = hz * WN[iz]!;
    if (iz === 0) {
      // Tail beyond R (Marsaglia 1964).
      let y: number;
      do {
        x = -Math.log(nextUniform(state)) / ZIG_R;
        y = -Math.log(nextUniform(state));
      } while (y + y < x * x);
      return hz > 0 ? ZIG_R + x : -ZIG_R - x;
    }
    if (FN[iz]! + nextUniform(state) * (FN[iz - 1]! - FN[iz]!) < Math.exp(-0.5 * x * x)) return x;
    hz = nextInt(state);
    iz = hz & (LAYERS - 1);
    if (Math.abs(hz) < KN[iz]!) return hz * WN[iz]!;
  }
}

/** Standard normals into `out`, using `bits` (same length) as scratch. */
function fillNormal(out: Float32Array, bits: Int32Array, state: Int32Array): void {
  fillBits(bits, state);
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const hz = bits[i]!;
    const iz = hz & (LAYERS - 1);
    out[i] = Math.abs(hz) < KN[iz]! ? hz * WN[iz]! : slowNormal(state, hz, iz);
  }
}

/** splitmix32 step (seeding). */
function splitmix32(seed: number): [number, number] {
  const s = (seed + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [s, (z ^ (z >>> 16)) | 0];
}

/**
 * A seedable stream of standard-normal float32 values (xoshiro128** + ziggurat).
 *
 * @example Noise for a batch on the active backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { GaussianStream } from "./native_random.ts";
 *
 * const noise = new GaussianStream(42);
 * const eps = noise.tensor([128, 784]); // [B, D], N(0, 1)
 * console.log(eps.shape);
 * eps.dispose();
 * ```
 */
export class GaussianStream {
  #state = new Int32Array(4);

  /**
   * Creates a stream; equal seeds give equal streams.
   *
   * @param seed Any finite number (its integer part's low 53 bits are used).
   */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new RangeError(
        `Cannot create a Gaussian stream as 'seed' must be a finite number: current value is ${seed}`,
      );
    }
    const whole = Math.trunc(seed);
    let s = (whole % 2 ** 32) | 0;
    const high = Math.floor(whole / 2 ** 32) | 0;
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s ^ Math.imul(high, i + 1));
      s = next;
      this.#state[i] = out;
    }
    if (this.#state.every((w) => w === 0)) this.#state[0] = 1; // all-zero is xoshiro's fixed point
  }

  /**
   * Fills an array with independent N(0, 1) values.
   *
   * @param out The array to fill.
   */
  fill(out: Float32Array): void {
    // One scratch buffer for every stream (JS is single-threaded and fill() does not re-enter):
    // streams made per draw (graph random streams) then allocate nothing.
    if (scratch.length < out.length) scratch = new Int32Array(Math.max(out.length, 1024));
    fillNormal(out, scratch.subarray(0, out.length), this.#state);
  }

  /**
   * A new float32 tensor of N(0, 1) values on the active backend (written in place on cpu and
   * wasm; uploaded elsewhere). Tracked by `tf.tidy` like any op output.
   *
   * @param shape Tensor shape.
   * @returns The tensor.
   */
  tensor(shape: number[]): Tensor {
    const heap = activeHeap();
    if (heap === null) {
      const values = new Float32Array(sizeOf(shape));
      this.fill(values);
      return tf.tensor(values, shape, "float32");
    }
    const out = heap.alloc(shape);
    this.fill(out.data);
    return tf.engine().makeTensorFromTensorInfo(out.info);
  }

  /**
   * The generator state (4 int32 words), e.g. for a checkpoint.
   *
   * @returns A copy of the state.
   */
  getState(): Int32Array {
    return this.#state.slice();
  }

  /**
   * Restores a state from {@linkcode GaussianStream.getState}.
   *
   * @param state 4 int32 words, not all zero.
   */
  setState(state: ArrayLike<number>): void {
    if (state.length !== 4 || Array.from(state).every((w) => (w | 0) === 0)) {
      throw new RangeError(
        `Cannot restore a Gaussian stream as 'state' must be 4 words, not all zero: current value is [${
          Array.from(state)
        }]`,
      );
    }
    for (let i = 0; i < 4; i++) this.#state[i] = state[i]! | 0;
  }
}

// Run every path once at load: V8 otherwise optimises the loops before the code after them has
// type feedback, then deoptimises on every call (measured: 2x slower).
{
  const warm = new GaussianStream(1);
  const out = new Float32Array(256);
  for (let i = 0; i < 50; i++) warm.fill(out);
}
