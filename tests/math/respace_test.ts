import assert from "node:assert/strict";
import { betaSchedule, cumprod, map64, respacedBetas, spaceTimesteps } from "../../lib/math/mod.ts";

Deno.test("spaceTimesteps(300, [10, 15, 20]) strides three 100-step sections as respace.py's docstring says", () => {
  const kept = spaceTimesteps(300, [10, 15, 20]);
  assert.equal(kept.length, 45);
  const sections = [0, 1, 2].map((k) => kept.filter((s) => s >= 100 * k && s < 100 * (k + 1)));
  assert.deepEqual(sections.map((s) => s.length), [10, 15, 20]);
  // Each section keeps its first and last step, with stride (size − 1)/(count − 1) rounded.
  assert.deepEqual(sections.map((s) => [s[0], s.at(-1)]), [[0, 99], [100, 199], [200, 299]]);
  assert.deepEqual(sections[0], [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]);
  assert.deepEqual(spaceTimesteps(300, "10,15,20"), kept);
});

Deno.test("spaceTimesteps() with 'ddimN' uses the integer stride that gives exactly N steps", () => {
  const kept = spaceTimesteps(1000, "ddim50");
  assert.equal(kept.length, 50);
  assert.deepEqual(kept.slice(0, 3), [0, 20, 40]);
  assert.equal(kept.at(-1), 980);
  assert.deepEqual(spaceTimesteps(10, "ddim4"), [0, 3, 6, 9]);
  assert.deepEqual(spaceTimesteps(10, "ddim10"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("spaceTimesteps() rounds half to even like Python's round()", () => {
  // One section of 300 with 7 steps: stride 299/6, and 3 · 299/6 = 149.5 rounds to 150.
  assert.deepEqual(spaceTimesteps(300, "7"), [0, 50, 100, 150, 199, 249, 299]);
  // Stride 2.5 over a 6-step section: 0, 2.5 → 2, 5.
  assert.deepEqual(spaceTimesteps(6, [3]), [0, 2, 5]);
});

Deno.test("spaceTimesteps() throws where respace.py raises ValueError", () => {
  assert.throws(() => spaceTimesteps(10, "ddim7"), {
    name: "RangeError",
    message: /exactly 7 steps with an integer stride/,
  });
  assert.throws(() => spaceTimesteps(10, "6,6"), /Cannot divide a section of 5 steps into 6 steps/);
  assert.throws(() => spaceTimesteps(10, "ddimx"), TypeError);
  assert.throws(() => spaceTimesteps(10, "3,,2"), TypeError);
  assert.throws(() => spaceTimesteps(0, "ddim1"), RangeError);
});

Deno.test("respaced ᾱ equals the original ᾱ at every kept step", () => {
  for (const name of ["linear", "cosine"] as const) {
    const betas = betaSchedule(name, 1000);
    const ac = cumprod(map64(betas, (b) => 1 - b));
    for (const spec of ["ddim50", "10,15,20", "1000"]) {
      const kept = spaceTimesteps(1000, spec);
      const acNew = cumprod(map64(respacedBetas(betas, kept), (b) => 1 - b));
      assert.equal(acNew.length, kept.length);
      kept.forEach((s, i) => {
        const rel = Math.abs(acNew[i]! - ac[s]!) / ac[s]!;
        // β′ = 1 − ᾱ_s/ᾱ_prev then α′ = 1 − β′ loses a few float64 ulps per kept step.
        assert.ok(rel < 1e-10, `${name} ${spec} step ${s}: ${acNew[i]} vs ${ac[s]}`);
      });
    }
  }
});

Deno.test("respacedBetas() ignores order and duplicates and rejects steps outside [0, T)", () => {
  const betas = betaSchedule("linear", 100);
  assert.deepEqual(respacedBetas(betas, [50, 0, 50, 99]), respacedBetas(betas, [0, 50, 99]));
  assert.throws(() => respacedBetas(betas, [0, 100]), RangeError);
  assert.throws(() => respacedBetas(betas, []), RangeError);
});
