import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { contractivePenalty } from "../../lib/vae/mod.ts";
import { assertClose, read, sigmoid64 } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** h = σ(x W + b) in float64 for one example; W is [D][H]. */
function layer(x: number[], w: number[][], b: number[]): number[] {
  return b.map((bj, j) =>
    sigmoid64(x.reduce((s, xi, i) => s + xi * ((w[i] as number[])[j] as number), bj))
  );
}

Deno.test("contractivePenalty() equals the squared Frobenius norm of a finite-difference Jacobian", async () => {
  const [batch, dIn, dHid] = [3, 5, 4];
  const x = await read(tf.randomNormal([batch, dIn], 0, 1, "float32", 21));
  const wFlat = await read(tf.randomNormal([dIn, dHid], 0, 0.8, "float32", 22));
  const b = await read(tf.randomNormal([dHid], 0, 0.5, "float32", 23));
  const w = Array.from({ length: dIn }, (_, i) => wFlat.slice(i * dHid, (i + 1) * dHid));
  const eps = 1e-5;
  const expected = Array.from({ length: batch }, (_, n) => {
    const xn = x.slice(n * dIn, (n + 1) * dIn);
    let frob = 0;
    for (let i = 0; i < dIn; i++) {
      const up = xn.slice();
      const down = xn.slice();
      up[i] = (up[i] as number) + eps;
      down[i] = (down[i] as number) - eps;
      const hu = layer(up, w, b);
      const hd = layer(down, w, b);
      for (let j = 0; j < dHid; j++) {
        frob += (((hu[j] as number) - (hd[j] as number)) / (2 * eps)) ** 2;
      }
    }
    return frob;
  });
  const wT = tf.tensor2d(wFlat, [dIn, dHid]);
  const h = tf.sigmoid(tf.add(tf.matMul(tf.tensor2d(x, [batch, dIn]), wT), tf.tensor1d(b)));
  const penalty = await read(contractivePenalty(h, wT));
  assertClose(penalty, expected, { rtol: 1e-4, atol: 1e-7, what: "||J||_F^2" });
  assert.throws(() => contractivePenalty(h, tf.zeros([dIn, dHid + 1])), TypeError);
});
