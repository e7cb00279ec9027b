/**
 * Read worker for `read_test.ts`: on the backend named by the first argument, tries each
 * synchronous read on a fresh tensor computed by the backend, then the asynchronous helpers,
 * and prints one JSON line.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { initBackend, readArray, readScalar, toBackendName } from "../../lib/backend/mod.ts";

/** The worker's output line: `null` for a read that worked, else its error message. */
export interface ReadOutput {
  backend: string;
  sync: Record<"dataSync" | "arraySync" | "toString" | "print", string | null>;
  asyncValuesOk: boolean;
  asyncSum: number;
  leakedTensors: number;
}

const info = await initBackend({
  backend: toBackendName(Deno.args[0] ?? "", "the first argument"),
  threads: 1,
  quiet: true,
});
const before = tf.memory().numTensors;
const n = 2048; // above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: the add runs on the GPU
/** A fresh tensor 1..n, computed by the active backend. */
const fresh = () => tf.tidy(() => tf.add(tf.range(0, n, 1, "float32"), 1));

const sync: ReadOutput["sync"] = { dataSync: null, arraySync: null, toString: null, print: null };
const attempts: [keyof ReadOutput["sync"], (t: tf.Tensor) => unknown][] = [
  ["dataSync", (t) => t.dataSync()],
  ["arraySync", (t) => t.arraySync()],
  ["toString", (t) => t.toString()],
  ["print", (t) => t.print()],
];
for (const [name, read] of attempts) {
  const t = fresh();
  const log = console.log;
  console.log = () => {}; // print() writes to stdout; keep stdout for the JSON line
  try {
    read(t);
  } catch (e) {
    sync[name] = e instanceof Error ? e.message : String(e);
  } finally {
    console.log = log;
  }
  await t.data(); // settle the tensor before disposing it
  t.dispose();
}

const t = fresh();
const values = await readArray(t);
const asyncValuesOk = values.length === n && values.every((v, i) => v === i + 1);
const asyncSum = await readScalar(tf.sum(t), { dispose: true });
t.dispose();
const out: ReadOutput = {
  backend: info.name,
  sync,
  asyncValuesOk,
  asyncSum,
  leakedTensors: tf.memory().numTensors - before,
};
console.log(JSON.stringify(out));
