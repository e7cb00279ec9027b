/**
 * A small, documented, seedable pseudo-random number generator for host-side (CPU) randomness:
 * shuffling, data splits, dynamic binarisation, toy-data sampling.
 *
 * The generator is **xoshiro128\*\*** 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021; https://prng.di.unimi.it/xoshiro128starstar.c): 128 bits of state,
 * period 2^128 − 1, 32-bit outputs. A 32-bit seed is expanded into the four state words with
 * splitmix32 (the 32-bit analogue of Steele et al.'s SplitMix: add the golden-ratio increment
 * 0x9e3779b9, then the murmur3 `fmix32` finaliser), as the xoshiro authors recommend.
 *
 * Its whole state is four numbers, so it serialises to JSON ({@linkcode Rng.getState}) and a run
 * resumes exactly ({@linkcode Rng.fromState}). The output sequence for a given seed is part of
 * the project's reproducibility contract and is pinned by tests.
 *
 * @module
 */

const GOLDEN_GAMMA = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/**
 * The murmur3 `fmix32` finaliser: a bijection on 32-bit integers with full avalanche.
 *
 * @param x A 32-bit integer (any number is truncated to its low 32 bits).
 * @returns The mixed value as an unsigned 32-bit integer.
 *
 * @example Mix a value
 * ```ts
 * import { mix32 } from "./random.ts";
 * console.log(mix32(1) !== mix32(2)); // true
 * ```
 */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Advances a splitmix32 state and returns the state and output.
 *
 * @param state The current 32-bit state.
 * @returns `[nextState, output]`, both unsigned 32-bit integers.
 *
 * @example Expand a seed into words
 * ```ts
 * import { splitmix32 } from "./random.ts";
 * const [s1, out1] = splitmix32(42);
 * const [, out2] = splitmix32(s1);
 * console.log(out1 !== out2); // true
 * ```
 */
export function splitmix32(state: number): [number, number] {
  const next = (state + GOLDEN_GAMMA) >>> 0;
  return [next, mix32(next)];
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
    throw new RangeError(
      `Cannot ${what} as 'seed' must be an integer in [0, 2^32): current value is ${seed}`,
    );
  }
}

/**
 * Derives an independent seed from a base seed and a list of names (a "named random stream"), so
 * that, e.g., the shuffle of epoch 3 and the binarisation of epoch 3 never share random numbers.
 *
 * Keys are hashed in order: strings code unit by code unit, numbers as two 32-bit halves (they
 * must be safe integers). The result is a non-negative int32 (in [0, 2^31)), usable both as an
 * {@linkcode Rng} seed and as a TensorFlow.js random-op seed.
 *
 * @param seed The base seed, an integer in [0, 2^32).
 * @param keys Strings and integers that name the stream.
 * @returns A derived seed in [0, 2^31).
 *
 * @example Seeds for epoch shuffles
 * ```ts
 * import { deriveSeed } from "./random.ts";
 * const a = deriveSeed(0, ["shuffle", 1]);
 * const b = deriveSeed(0, ["shuffle", 2]);
 * console.log(a !== b && a === deriveSeed(0, ["shuffle", 1])); // true
 * ```
 */
export function deriveSeed(seed: number, keys: readonly (string | number)[]): number {
  checkSeed(seed, "derive a seed");
  let h = mix32(seed + GOLDEN_GAMMA);
  for (const key of keys) {
    if (typeof key === "number") {
      if (!Number.isSafeInteger(key)) {
        throw new RangeError(
          `Cannot derive a seed as a numeric key must be a safe integer: current value is ${key}`,
        );
      }
      const lo = key >>> 0;
      const hi = Math.floor(key / TWO_POW_32) >>> 0;
      h = mix32(h ^ mix32(lo + 0x6a09e667));
      h = mix32(h ^ mix32(hi + 0xbb67ae85));
    } else {
      h = mix32(h ^ 0x3c6ef372 ^ key.length);
      for (let i = 0; i < key.length; i++) h = mix32(h ^ key.charCodeAt(i));
    }
    h = mix32(h + GOLDEN_GAMMA);
  }
  return h >>> 1;
}

/** The JSON-serialisable state of an {@linkcode Rng}. */
export interface RngState {
  /** Always `"xoshiro128**"`: names the algorithm the words belong to. */
  algorithm: "xoshiro128**";
  /** The four unsigned 32-bit state words. */
  words: [number, number, number, number];
}

/**
 * A seeded xoshiro128\*\* generator. Deterministic across platforms and versions.
 *
 * @example Draw numbers and resume from a saved state
 * ```ts
 * import { Rng } from "./random.ts";
 * const rng = new Rng(42);
 * rng.next();
 * const saved = JSON.stringify(rng.getState());
 * const a = rng.next();
 * const b = Rng.fromState(JSON.parse(saved)).next();
 * console.log(a === b); // true
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Creates a generator from a 32-bit seed (expanded with splitmix32).
   *
   * @param seed An integer in [0, 2^32).
   */
  constructor(seed: number) {
    checkSeed(seed, "create an Rng");
    let s = seed;
    let out: number;
    [s, out] = splitmix32(s);
    this.#s0 = out;
    [s, out] = splitmix32(s);
    this.#s1 = out;
    [s, out] = splitmix32(s);
    this.#s2 = out;
    [, out] = splitmix32(s);
    this.#s3 = out;
  }

  /**
   * Rebuilds a generator from a state saved with {@linkcode Rng.getState}.
   *
   * @param state The saved state.
   * @returns A generator that continues exactly where the saved one was.
   *
   * @example Restore
   * ```ts
   * import { Rng } from "./random.ts";
   * const r = new Rng(1);
   * console.log(Rng.fromState(r.getState()).nextUint32() === r.nextUint32()); // true
   * ```
   */
  static fromState(state: RngState): Rng {
    const w = state.words;
    if (
      state.algorithm !== "xoshiro128**" || !Array.isArray(w) || w.length !== 4 ||
      !w.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_POW_32) ||
      w.every((x) => x === 0)
    ) {
      throw new TypeError(
        `Cannot restore an Rng as the state is not a xoshiro128** state of four non-zero ` +
          `uint32 words: current value is ${JSON.stringify(state)}`,
      );
    }
    const rng = new Rng(0);
    [rng.#s0, rng.#s1, rng.#s2, rng.#s3] = w;
    return rng;
  }

  /**
   * Returns the current state, to be saved as JSON.
   *
   * @returns A copy of the state.
   *
   * @example Save
   * ```ts
   * import { Rng } from "./random.ts";
   * console.log(new Rng(7).getState().words.length); // 4
   * ```
   */
  getState(): RngState {
    return { algorithm: "xoshiro128**", words: [this.#s0, this.#s1, this.#s2, this.#s3] };
  }

  /**
   * Returns an independent copy with the same state.
   *
   * @returns The copy.
   *
   * @example Clone
   * ```ts
   * import { Rng } from "./random.ts";
   * const r = new Rng(3);
   * console.log(r.clone().next() === r.next()); // true
   * ```
   */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /**
   * Returns the next 32-bit output (xoshiro128\*\*: `rotl(s1 · 5, 7) · 9`).
   *
   * @returns An integer in [0, 2^32).
   *
   * @example Draw
   * ```ts
   * import { Rng } from "./random.ts";
   * console.log(new Rng(0).nextUint32() < 2 ** 32); // true
   * ```
   */
  nextUint32(): number {
    const s1 = this.#s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    this.#s0 >>>= 0;
    this.#s1 >>>= 0;
    this.#s2 >>>= 0;
    this.#s3 >>>= 0;
    return result;
  }

  /**
   * Returns a uniform float in [0, 1) with 32 bits of resolution (`nextUint32() / 2^32`).
   *
   * @returns A number in [0, 1).
   *
   * @example Uniform draw
   * ```ts
   * import { Rng } from "./random.ts";
   * const u = new Rng(0).next();
   * console.log(u >= 0 && u < 1); // true
   * ```
   */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * Returns a uniform integer in [0, n), without modulo bias (rejection sampling).
   *
   * @param n The number of outcomes, an integer in [1, 2^32].
   * @returns An integer in [0, n).
   *
   * @example Roll a die
   * ```ts
   * import { Rng } from "./random.ts";
   * const k = new Rng(0).int(6);
   * console.log(k >= 0 && k < 6); // true
   * ```
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(
        `Cannot draw an integer as 'n' must be an integer in [1, 2^32]: current value is ${n}`,
      );
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * Returns a standard normal draw (Box–Muller, one of the pair; uses two uniforms).
   *
   * @returns A draw from N(0, 1).
   *
   * @example Normal draw
   * ```ts
   * import { Rng } from "./random.ts";
   * console.log(Number.isFinite(new Rng(0).normal())); // true
   * ```
   */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fills a new array with standard normal draws (Box–Muller, both values of each pair).
   *
   * @param n How many draws.
   * @returns A `Float32Array` of length n, ready for `tf.tensor(values, shape)`.
   *
   * @example Noise for a tensor
   * ```ts
   * import { Rng } from "./random.ts";
   * console.log(new Rng(0).normalArray(5).length); // 5
   * ```
   */
  normalArray(n: number): Float32Array {
    checkCount(n, "draw normals");
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.next()));
      const a = 2 * Math.PI * this.next();
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    return out;
  }

  /**
   * Returns a uniformly random permutation of 0 … n−1 (Durstenfeld's Fisher–Yates shuffle, drawing
   * `int(i + 1)` for i = n−1 down to 1).
   *
   * @param n The length, a non-negative integer.
   * @returns A `Uint32Array` holding each of 0 … n−1 once.
   *
   * @example Shuffle indices
   * ```ts
   * import { Rng } from "./random.ts";
   * const p = new Rng(0).permutation(5);
   * console.log([...p].sort().join(",")); // "0,1,2,3,4"
   * ```
   */
  permutation(n: number): Uint32Array {
    checkCount(n, "build a permutation");
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i] as number;
      p[i] = p[j] as number;
      p[j] = tmp;
    }
    return p;
  }
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot ${what} as 'n' must be a non-negative integer: current value is ${n}`,
    );
  }
}
