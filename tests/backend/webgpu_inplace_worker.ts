/**
 * Worker for `webgpu_inplace_test.ts`: on the backend named by the first argument, runs Adam
 * (`lib/train/adam.ts`) and the weight EMA (`lib/train/ema.ts`) in place and with tfjs ops on the
 * same seeded values and prints one JSON line: the largest differences, whether each update kept
 * the variable's buffer (in place) or replaced it, and the cases that must fall back.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { initBackend, readArray, toBackendName } from "../../lib/backend/mod.ts";
import { seeded } from "../_seeded.ts";
import { FusedAdamOptimizer } from "../../lib/backend/native_adam.ts";
import { Adam } from "../../lib/train/adam.ts";
import { webgpuColumnSum } from "../../lib/backend/webgpu_column_sum.ts";
import { Ema } from "../../lib/train/ema.ts";
import { inOneSubmission } from "../../lib/backend/webgpu_submit.ts";

/** The worker's output line. */
export interface InPlaceOutput {
  backend: string;
  /** Largest |in place − ops| / (1 + |ops|) over weights and moments after 5 Adam steps. */
  adamError: number;
  /** Whether every in-place Adam step kept each weight's and moment's buffer. */
  adamKeptBuffers: boolean;
  /** Whether the tfjs-ops path replaced the weights' buffers (the control). */
  opsReplacedBuffers: boolean;
  /** A weight that shares its buffer with a tensor: that tensor's values after the step. */
  sharedUntouched: boolean;
  /** A weight read (and cached on the CPU) before the step reads the new values after it. */
  readAfterCachedRead: boolean;
  /** `FusedAdamOptimizer` against `tf.train.adam` (3 minimize steps), and whether it kept buffers. */
  fusedError: number;
  fusedKeptBuffer: boolean;
  /** Adam and the EMA over an empty variable run (by tfjs ops); an empty column sum declines. */
  emptyOk: boolean;
  /** Largest relative EMA error after 3 updates, and whether the shadow kept its buffer. */
  emaError: number;
  emaKeptBuffer: boolean;
  /** An EMA over more than 65535 workgroups (a two-dimensional dispatch): first, middle, last. */
  bigEma: number[];
  /**
   * webgpu only (else `null`): queue submissions while 40 adds are recorded plainly and inside
   * `inOneSubmission`, their values, and tfjs's submit batch size afterwards.
   */
  submissions: { plain: number; inOne: number; values: number[]; batchAfter: number } | null;
  /**
   * webgpu only (else `null`): dispatches of one `Adam.apply` over 6 variables, and the variables
   * per dispatch that the device's storage-buffer limit allows (`min(16, limit / 4)`).
   */
  adamGroups: { dispatches: number; perDispatch: number } | null;
  /** The same for one `Ema.update` over those 6 variables (2 buffers each, at most 32), and
   * whether every shadow holds the right value. */
  emaGroups: { dispatches: number; perDispatch: number; valuesOk: boolean } | null;
  leakedTensors: number;
}

function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  }
  return a.length === b.length ? worst : Infinity;
}

const info = await initBackend({
  backend: toBackendName(Deno.args[0] ?? "", "the first argument"),
  threads: 1,
  quiet: true,
});
const before = tf.memory().numTensors;

// Sizes: tiny, not a multiple of the workgroup, and a matrix.
const shapes = [[3], [1000], [300, 257]];
const init = shapes.map((s, k) => seeded(s.reduce((a, b) => a * b, 1), 10 + k));
const make = () =>
  shapes.map((s, k) => tf.tidy(() => tf.variable(tf.add(tf.tensor(init[k]!, s), 0))));
const fast = make(), slow = make();
const adamFast = new Adam(fast, { lr: 1e-2 });
const adamSlow = new Adam(slow, { lr: 1e-2, update: "ops" });
let adamKeptBuffers = true, opsReplacedBuffers = true;
for (let step = 0; step < 5; step++) {
  const ids = [...fast, ...adamFast.m, ...adamFast.v].map((t) => t.dataId);
  const slowIds = slow.map((t) => t.dataId);
  tf.tidy(() => {
    const grads = shapes.map((s, k) => tf.tensor(seeded(init[k]!.length, 100 * step + k), s));
    adamFast.apply(grads);
    adamSlow.apply(grads);
  });
  const after = [...fast, ...adamFast.m, ...adamFast.v].map((t) => t.dataId);
  adamKeptBuffers &&= after.every((id, i) => id === ids[i]);
  opsReplacedBuffers &&= slow.every((t, i) => t.dataId !== slowIds[i]);
}
let adamError = 0;
const pairs = [
  ...fast.map((t, i) => [t, slow[i]!]),
  ...adamFast.m.map((t, i) => [t, adamSlow.m[i]!]),
  ...adamFast.v.map((t, i) => [t, adamSlow.v[i]!]),
];
for (const [a, b] of pairs) {
  adamError = Math.max(adamError, maxRelError(await readArray(a!), await readArray(b!)));
}

// A weight whose buffer another tensor shares must not change that tensor; the weight beside it
// in the same Adam (the same webgpu dispatch group) is still updated, in place.
const source = tf.tensor([1, 2, 3, 4]);
const shared = tf.variable(source);
const beside = tf.tidy(() => tf.variable(tf.zeros([4])));
const besideId = beside.dataId;
const adamShared = new Adam([shared, beside], { lr: 0.5 });
tf.tidy(() => adamShared.apply([tf.ones([4]), tf.ones([4])]));
const sharedUntouched = (await readArray(source)).join() === "1,2,3,4" &&
  (await readArray(shared))[0] !== 1 &&
  (await readArray(beside)).every((x) => Math.abs(x + 0.5) < 1e-6) &&
  (info.name === "cpu" || beside.dataId === besideId);

// A read caches the values on the CPU (tfjs-webgpu); the next read must see the update.
const cached = tf.tidy(() => tf.variable(tf.add(tf.zeros([512]), 1)));
const adamCached = new Adam([cached], { lr: 0.25 });
await readArray(cached);
tf.tidy(() => adamCached.apply([tf.ones([512])]));
const readAfterCachedRead = (await readArray(cached)).every((x) => Math.abs(x - 0.75) < 1e-6);

// The tf.Optimizer drop-in (the hand-written benchmark's optimiser) against tfjs's own Adam.
const target = tf.tensor(init[1]!);
const xFused = tf.tidy(() => tf.variable(tf.add(target, 0.5)));
const xTfjs = tf.tidy(() => tf.variable(tf.add(target, 0.5)));
const fusedOpt = new FusedAdamOptimizer(0.05), tfjsOpt = tf.train.adam(0.05);
const loss = (x: tf.Variable) => () => tf.sum(tf.mul(tf.square(tf.sub(x, target)), 3)) as tf.Scalar;
fusedOpt.minimize(loss(xFused)); // the first step creates the moments
const fusedId = xFused.dataId;
for (let step = 0; step < 3; step++) {
  if (step > 0) fusedOpt.minimize(loss(xFused));
  tfjsOpt.minimize(loss(xTfjs));
}
tfjsOpt.minimize(loss(xTfjs));
fusedOpt.minimize(loss(xFused));
const fusedError = maxRelError(await readArray(xFused), await readArray(xTfjs));
const fusedKeptBuffer = xFused.dataId === fusedId;

// EMA: 3 updates against the formula with tfjs ops.
const weights = tf.tidy(() => tf.variable(tf.add(tf.tensor(init[2]!, shapes[2]), 0)));
const ema = new Ema([weights], 0.99);
let expected = tf.mul(ema.shadows[0]!, 1); // a copy: clone() would share the shadow's buffer
const shadowId = ema.shadows[0]!.dataId;
for (let step = 0; step < 3; step++) {
  const moved = tf.tidy(() =>
    tf.add(weights, tf.tensor(seeded(init[2]!.length, 500 + step), shapes[2]))
  );
  weights.assign(moved);
  moved.dispose();
  ema.update();
  const next = tf.tidy(() => tf.add(tf.mul(expected, 0.99), tf.mul(weights, 1 - 0.99)));
  expected.dispose();
  expected = next;
}
const emaError = maxRelError(await readArray(ema.shadows[0]!), await readArray(expected));
const emaKeptBuffer = ema.shadows[0]!.dataId === shadowId;
expected.dispose();

// Empty tensors take the tfjs-ops path (an empty storage binding is invalid in WebGPU).
const empty = tf.tidy(() => tf.variable(tf.zeros([0, 3])));
const adamEmpty = new Adam([empty], { lr: 0.1 }), emaEmpty = new Ema([empty], 0.9);
tf.tidy(() => adamEmpty.apply([tf.zeros([0, 3])]));
emaEmpty.update();
const noRows = tf.zeros([0, 3]);
const emptySum = webgpuColumnSum(noRows); // null: tf.sum handles it
const emptyOk = (await readArray(empty)).length === 0 && emptySum === null;
noRows.dispose();
adamEmpty.dispose();
emaEmpty.dispose();

// More invocations than one dispatch dimension holds (65535 workgroups of 256).
const bigN = 65535 * 256 + 1000;
const bigW = tf.tidy(() => tf.variable(tf.ones([bigN])));
const bigEmaState = new Ema([bigW], 0.5);
const threes = tf.fill([bigN], 3);
bigW.assign(threes);
threes.dispose();
bigEmaState.update();
const big = await readArray(bigEmaState.shadows[0]!);
const bigEma = [big[0]!, big[bigN >> 1]!, big[bigN - 1]!];

// One submission for the work recorded inside inOneSubmission; tfjs-webgpu's own batching outside.
async function submitsWhile(record: () => tf.Tensor): Promise<[number, number]> {
  const flush = tf.zeros([1]);
  await readArray(flush); // submits whatever is pending
  flush.dispose();
  const queue = GPUQueue.prototype, { submit } = queue;
  let submits = 0;
  queue.submit = function (this: GPUQueue, ...args) {
    submits++;
    return submit.apply(this, args);
  };
  let y: tf.Tensor;
  try {
    y = record();
  } finally {
    queue.submit = submit;
  }
  const value = (await readArray(y))[4095]!;
  y.dispose();
  return [submits, value];
}
const fortyAdds = () =>
  tf.tidy(() => {
    let x = tf.ones([4096]);
    for (let k = 0; k < 40; k++) x = tf.add(x, 1);
    return x;
  });
let submissions: InPlaceOutput["submissions"] = null;
let adamGroups: InPlaceOutput["adamGroups"] = null;
let emaGroups: InPlaceOutput["emaGroups"] = null;
if (info.name === "webgpu") {
  const [plain, plainValue] = await submitsWhile(fortyAdds);
  const [inOne, inOneValue] = await submitsWhile(() => inOneSubmission(fortyAdds));
  const batchAfter = tf.env().getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE");
  submissions = { plain, inOne, values: [plainValue, inOneValue], batchAfter };
  const six = tf.tidy(() => [1, 10, 100, 7, 300, 2].map((n) => tf.variable(tf.zeros([n]))));
  const adamSix = new Adam(six, { lr: 0.1 });
  const grads = six.map((v) => tf.onesLike(v));
  const emaSix = new Ema(six, 0.5); // shadows: the zeros
  const dispatchesOf = (f: () => void): number => {
    const pass = GPUComputePassEncoder.prototype, { dispatchWorkgroups } = pass;
    let dispatches = 0;
    pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args) {
      dispatches++;
      return dispatchWorkgroups.apply(this, args);
    };
    try {
      f();
    } finally {
      pass.dispatchWorkgroups = dispatchWorkgroups;
    }
    return dispatches;
  };
  const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits
    .maxStorageBuffersPerShaderStage;
  const adamDispatches = dispatchesOf(() => adamSix.apply(grads));
  adamGroups = { dispatches: adamDispatches, perDispatch: Math.min(16, Math.floor(limit / 4)) };
  tf.tidy(() => six.forEach((v) => v.assign(tf.onesLike(v))));
  await readArray(six[0]!);
  const emaDispatches = dispatchesOf(() => emaSix.update());
  let valuesOk = true;
  for (const sh of emaSix.shadows) valuesOk &&= (await readArray(sh)).every((x) => x === 0.5);
  emaGroups = {
    dispatches: emaDispatches,
    perDispatch: Math.min(32, Math.floor(limit / 2)),
    valuesOk,
  };
  tf.dispose([...six, ...grads]);
  adamSix.dispose();
  emaSix.dispose();
}

tf.dispose([
  ...fast,
  ...slow,
  source,
  shared,
  beside,
  cached,
  weights,
  bigW,
  target,
  xFused,
  xTfjs,
  empty,
]);
for (const o of [adamFast, adamSlow, adamShared, adamCached, ema, bigEmaState]) o.dispose();
fusedOpt.dispose();
tfjsOpt.dispose();
const out: InPlaceOutput = {
  backend: info.name,
  adamError,
  adamKeptBuffers,
  opsReplacedBuffers,
  sharedUntouched,
  readAfterCachedRead,
  fusedError,
  fusedKeptBuffer,
  emptyOk,
  emaError,
  emaKeptBuffer,
  bigEma,
  submissions,
  adamGroups,
  emaGroups,
  leakedTensors: tf.memory().numTensors - before,
};
console.log(JSON.stringify(out));
