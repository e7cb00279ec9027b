/**
 * Codebook maintenance for VQ-VAE as pure functions over state tensors: the exponential
 * moving-average (EMA) codebook update (van den Oord et al. 2017, Appendix A.1; Razavi et al.
 * 2019, "VQ-VAE-2"; DeepMind Sonnet `VectorQuantizerEMA`), usage tracking and dead-code restart
 * (Dhariwal et al. 2020, "Jukebox", random restarts).
 *
 * The functions never dispose their inputs: after an update, dispose the old state with
 * `tf.dispose(oldState)` once it is no longer needed.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertInRange, assertInteger, fmtShape, oneHotFloat } from "./_util.ts";

/**
 * A codebook plus how long each code has gone unused. (A type alias, not an interface, so that
 * `tf.dispose(state)` accepts it.)
 */
export type CodebookState = {
  /** The K code vectors e_k, `[K, D]`. */
  codebook: Tensor;
  /** Consecutive updates in which each code was chosen by no vector, `[K]` (float32). */
  unusedSteps: Tensor;
};

/**
 * State of the EMA codebook update. `clusterSize` and `embedSum` hold the moving averages N and
 * m of the per-code counts and vector sums; with `biasCorrection: "adam"` they are stored
 * already debiased (see {@linkcode emaCodebookUpdate}).
 */
export type VqEmaState = CodebookState & {
  /** Moving average N_k of how many vectors chose code k per batch, `[K]`. */
  clusterSize: Tensor;
  /** Moving average m_k of the sum of the vectors that chose code k, `[K, D]`. */
  embedSum: Tensor;
  /** How many EMA updates have been applied (0 for a fresh state). */
  step: number;
};

/**
 * A fresh EMA state for `codebook`: N = 0, m = 0, no unused steps, step 0 (as Sonnet, whose
 * moving averages start from zero).
 *
 * @param codebook the initial code vectors `[K, D]` (kept until the first update)
 * @returns a new state; `codebook` is cloned
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initVqEmaState } from "./mod.ts";
 *
 * const state = initVqEmaState(tf.randomNormal([512, 64], 0, 1, "float32", 0));
 * console.log(state.clusterSize.shape, state.step); // [512] 0
 * ```
 */
export function initVqEmaState(codebook: Tensor): VqEmaState {
  if (codebook.rank !== 2) {
    throw new TypeError(
      `Cannot initialise the EMA codebook state as 'codebook' must be [K, D]: current shape is ` +
        `${fmtShape(codebook.shape)}`,
    );
  }
  const numCodes = codebook.shape[0] ?? 0;
  return {
    codebook: tf.clone(codebook),
    unusedSteps: tf.zeros([numCodes]),
    clusterSize: tf.zeros([numCodes]),
    embedSum: tf.zerosLike(codebook),
    step: 0,
  };
}

/**
 * How the EMA treats its zero initialisation:
 * - `"adam"`: Sonnet's debiased average (Kingma & Ba 2015, §3): hidden h_t = γh + (1 − γ)v,
 *   average h_t / (1 − γ^t). Stored debiased, this is the update
 *   A ← A + (v − A)·(1 − γ)/(1 − γ^t), so the first update takes the batch statistics as they
 *   are.
 * - `"none"`: the plain recursion A ← γA + (1 − γ)v of the VQ-VAE paper.
 */
export type EmaBiasCorrection = "adam" | "none";

/** Options of {@linkcode emaCodebookUpdate}. */
export interface EmaCodebookUpdateOptions {
  /**
   * EMA decay γ.
   *
   * @default {0.99}
   */
  decay?: number;
  /**
   * Laplace smoothing ε of the cluster sizes (Sonnet's `epsilon`).
   *
   * @default {1e-5}
   */
  epsilon?: number;
  /**
   * Zero-initialisation handling of the moving averages.
   *
   * @default {"adam"}
   */
  biasCorrection?: EmaBiasCorrection;
}

/** The vectors of one batch and the codes they chose. */
export interface CodeAssignment {
  /** Encoder outputs `[..., D]`. */
  ze: Tensor;
  /** The chosen code of every vector (int32), `ze.shape` without the last axis. */
  indices: Tensor;
}

function flatAssignment(
  what: string,
  batch: CodeAssignment,
  state: CodebookState,
): { flat: Tensor; idx: Tensor; numCodes: number; dim: number } {
  const { ze, indices } = batch;
  const numCodes = state.codebook.shape[0] ?? 0;
  const dim = state.codebook.shape[1] ?? 0;
  const lead = ze.shape.slice(0, -1);
  const ok = ze.rank >= 2 && ze.shape[ze.rank - 1] === dim && indices.dtype === "int32" &&
    indices.rank === lead.length && lead.every((d, i) => d === indices.shape[i]);
  if (!ok) {
    throw new TypeError(
      `Cannot ${what} as 'ze' must be [..., ${dim}] and 'indices' int32 of shape [...]: current ` +
        `shapes are ${fmtShape(ze.shape)} and ${fmtShape(indices.shape)} (${indices.dtype})`,
    );
  }
  return {
    flat: tf.reshape(ze, [-1, dim]), // [N, D]
    idx: tf.reshape(indices, [-1]), // [N]
    numCodes,
    dim,
  };
}

/**
 * One EMA codebook update (van den Oord et al. 2017, Appendix A.1, eqs. 6–8), as in Sonnet's
 * `VectorQuantizerEMA`:
 *
 * 1. n_k = number of vectors that chose code k, s_k = their sum;
 * 2. N ← γN + (1 − γ)n and m ← γm + (1 − γ)s (debiased when `biasCorrection` is `"adam"`);
 * 3. Laplace smoothing Ñ_k = (N_k + ε) / (Σ_j N_j + Kε) · Σ_j N_j;
 * 4. e_k = m_k / Ñ_k.
 *
 * A code no vector has ever chosen gets e_k = 0 (m_k = 0), as in Sonnet; restart such codes
 * with {@linkcode restartDeadCodesEma}. The update also counts `unusedSteps`. Apply it after
 * computing the batch's losses with the current codebook, and train the encoder with the
 * commitment loss only.
 *
 * @param state the current state (not disposed)
 * @param batch `{ ze, indices }`: the batch's encoder outputs and their codes under `state`
 * @param options `{ decay, epsilon, biasCorrection }`
 * @returns the new state
 *
 * @example One update
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { emaCodebookUpdate, initVqEmaState, vectorQuantize } from "./mod.ts";
 *
 * const state = initVqEmaState(tf.tensor2d([[0, 0], [1, 1]]));
 * const ze = tf.tensor2d([[0.1, 0.1], [0.9, 1.1], [1.1, 0.9]]);
 * const { indices } = vectorQuantize(ze, state.codebook);
 * const next = emaCodebookUpdate(state, { ze, indices }, { decay: 0.99 });
 * tf.dispose(state);
 * console.log(next.step); // 1
 * ```
 */
export function emaCodebookUpdate(
  state: VqEmaState,
  batch: CodeAssignment,
  options: EmaCodebookUpdateOptions = {},
): VqEmaState {
  const what = "update the EMA codebook";
  const decay = options.decay ?? 0.99;
  const epsilon = options.epsilon ?? 1e-5;
  const correction = options.biasCorrection ?? "adam";
  assertInRange(what, "decay", decay, { lo: 0, hi: 1 });
  assertInRange(what, "epsilon", epsilon, { lo: 0, hi: Number.MAX_VALUE });
  const step = state.step + 1;
  let rate: number;
  switch (correction) {
    case "adam":
      rate = decay === 1 ? 1 / step : (1 - decay) / (1 - Math.pow(decay, step));
      break;
    case "none":
      rate = 1 - decay;
      break;
    default: {
      const never: never = correction;
      throw new TypeError(
        `Cannot ${what} as 'biasCorrection' must be "adam" or "none": current value is ${never}`,
      );
    }
  }
  const next = tf.tidy(() => {
    const { flat, idx, numCodes } = flatAssignment(what, batch, state);
    const enc = oneHotFloat(idx, numCodes); // [N, K]
    const counts = tf.sum(enc, 0); // [K] n_k
    const sums = tf.matMul(tf.transpose(enc), flat); // [K, D] s_k (explicit transpose: fast on wasm)
    const clusterSize = tf.add(state.clusterSize, tf.mul(tf.sub(counts, state.clusterSize), rate));
    const embedSum = tf.add(state.embedSum, tf.mul(tf.sub(sums, state.embedSum), rate)); // [K, D]
    const total = tf.sum(clusterSize); // []
    const smoothed = tf.mul(
      tf.div(tf.add(clusterSize, epsilon), tf.add(total, numCodes * epsilon)),
      total,
    ); // [K] Laplace-smoothed N
    const codebook = tf.div(embedSum, tf.reshape(smoothed, [-1, 1])); // [K, D]
    const unusedSteps = tf.where(
      tf.greater(counts, 0),
      tf.zerosLike(state.unusedSteps),
      tf.add(state.unusedSteps, 1),
    ); // [K]
    return { codebook, unusedSteps, clusterSize, embedSum };
  });
  return { ...next, step };
}

/**
 * Counts consecutive unused updates per code: 0 for every code chosen by some vector of the
 * batch, +1 for the others. Use it with codebooks trained by the codebook loss (the EMA update
 * counts by itself).
 *
 * @param unusedSteps the current counts `[K]` (not disposed)
 * @param indices the batch's code indices (int32, any shape)
 * @returns the new counts `[K]`
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { updateUnusedSteps } from "./mod.ts";
 *
 * const unused = updateUnusedSteps(tf.tensor1d([0, 4, 2]), tf.tensor1d([1, 1], "int32"));
 * console.log(await unused.data()); // Float32Array [1, 0, 3]
 * ```
 */
export function updateUnusedSteps(unusedSteps: Tensor, indices: Tensor): Tensor {
  if (unusedSteps.rank !== 1 || indices.dtype !== "int32") {
    throw new TypeError(
      `Cannot count unused codes as 'unusedSteps' must be [K] and 'indices' int32: current ` +
        `shapes are ${fmtShape(unusedSteps.shape)} and ${fmtShape(indices.shape)} ` +
        `(${indices.dtype})`,
    );
  }
  const numCodes = unusedSteps.shape[0] ?? 0;
  return tf.tidy(() => {
    const flat = tf.reshape(indices, [-1]); // [N]
    const counts = tf.sum(oneHotFloat(flat, numCodes), 0); // [K]
    return tf.where(tf.greater(counts, 0), tf.zerosLike(unusedSteps), tf.add(unusedSteps, 1));
  });
}

/** Options of {@linkcode restartDeadCodes} and {@linkcode restartDeadCodesEma}. */
export interface RestartOptions {
  /** A code is dead once it has gone unused for at least this many consecutive updates. */
  maxUnusedSteps: number;
  /** Seed of the draw that picks which encoder outputs replace the dead codes. */
  seed: number;
}

/** Result of {@linkcode restartDeadCodes}. */
export type Restarted<S extends CodebookState> = {
  /** The new state. */
  state: S;
  /** 1 for every code that was restarted, 0 otherwise, `[K]` (float32). */
  restarted: Tensor;
};

/**
 * Random restart of dead codes (Dhariwal et al. 2020, "Jukebox"): every code unused for
 * at least `maxUnusedSteps` updates is replaced by an encoder output drawn uniformly (seeded)
 * from `ze`, and its unused count is reset. Other codes are unchanged.
 *
 * @param state `{ codebook, unusedSteps }` (not disposed)
 * @param ze a batch of encoder outputs `[..., D]` to draw replacements from
 * @param options `{ maxUnusedSteps, seed }`
 * @returns `{ state, restarted }`
 *
 * @example Restart codes unused for 2 steps
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { restartDeadCodes } from "./mod.ts";
 *
 * const state = { codebook: tf.zeros([3, 2]), unusedSteps: tf.tensor1d([0, 5, 1]) };
 * const ze = tf.tensor2d([[1, 2], [3, 4]]);
 * const { restarted } = restartDeadCodes(state, ze, { maxUnusedSteps: 2, seed: 0 });
 * console.log(await restarted.data()); // Float32Array [0, 1, 0]
 * ```
 */
export function restartDeadCodes(
  state: CodebookState,
  ze: Tensor,
  options: RestartOptions,
): Restarted<CodebookState> {
  const what = "restart dead codes";
  assertInteger(what, "maxUnusedSteps", options.maxUnusedSteps, 1);
  const numCodes = state.codebook.shape[0] ?? 0;
  const dim = state.codebook.shape[1] ?? 0;
  if (ze.rank < 2 || ze.shape[ze.rank - 1] !== dim || ze.size === 0) {
    throw new TypeError(
      `Cannot ${what} as 'ze' must be a non-empty [..., ${dim}]: current shape is ` +
        `${fmtShape(ze.shape)}`,
    );
  }
  if (!Number.isFinite(options.seed)) {
    throw new RangeError(
      `Cannot ${what} as 'seed' must be finite: current value is ${options.seed}`,
    );
  }
  return tf.tidy(() => {
    const flat = tf.reshape(ze, [-1, dim]); // [N, D]
    const rows = flat.shape[0] ?? 1;
    const u = tf.randomUniform([numCodes], 0, 1, "float32", options.seed); // [K]
    const pick = tf.cast(tf.minimum(tf.floor(tf.mul(u, rows)), rows - 1), "int32"); // [K]
    const candidates = tf.gather(flat, pick); // [K, D]
    const dead = tf.greaterEqual(state.unusedSteps, options.maxUnusedSteps); // [K] bool
    const deadRows = tf.tile(tf.reshape(dead, [-1, 1]), [1, dim]); // [K, D] bool
    const codebook = tf.where(deadRows, candidates, state.codebook); // [K, D]
    const unusedSteps = tf.where(dead, tf.zerosLike(state.unusedSteps), state.unusedSteps);
    // A bool → float32 cast would share the bool buffer on the cpu backend; build floats instead.
    const restarted = tf.where(dead, tf.onesLike(u), tf.zerosLike(u)); // [K] 0/1
    return { state: { codebook, unusedSteps }, restarted };
  });
}

/**
 * {@linkcode restartDeadCodes} for an EMA state: restarted codes also get N_k = 1 and m_k = e_k
 * (one vector's worth of statistics), so the next EMA update keeps them near their new value.
 *
 * @param state the EMA state (not disposed)
 * @param ze a batch of encoder outputs `[..., D]` to draw replacements from
 * @param options `{ maxUnusedSteps, seed }`
 * @returns `{ state, restarted }`
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initVqEmaState, restartDeadCodesEma } from "./mod.ts";
 *
 * const state = initVqEmaState(tf.zeros([3, 2]));
 * const ze = tf.tensor2d([[1, 2], [3, 4]]);
 * const { restarted } = restartDeadCodesEma(state, ze, { maxUnusedSteps: 1, seed: 0 });
 * console.log(await restarted.data()); // Float32Array [0, 0, 0]: nothing unused yet
 * ```
 */
export function restartDeadCodesEma(
  state: VqEmaState,
  ze: Tensor,
  options: RestartOptions,
): Restarted<VqEmaState> {
  const base = restartDeadCodes(state, ze, options);
  const ema = tf.tidy(() => {
    const r = base.restarted; // [K]
    const rows = tf.reshape(r, [-1, 1]); // [K, 1]
    const clusterSize = tf.add(tf.mul(state.clusterSize, tf.sub(1, r)), r); // [K]
    const embedSum = tf.add(
      tf.mul(state.embedSum, tf.sub(1, rows)),
      tf.mul(base.state.codebook, rows),
    ); // [K, D]
    return { clusterSize, embedSum };
  });
  return {
    state: { ...base.state, ...ema, step: state.step },
    restarted: base.restarted,
  };
}
