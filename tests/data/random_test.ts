import assert from "node:assert/strict";
import { deriveSeed, Rng } from "../../lib/data/mod.ts";

Deno.test("Rng.nextUint32() matches the xoshiro128** reference C code", () => {
  // Outputs of prng.di.unimi.it/xoshiro128starstar.c from state {1, 2, 3, 0xdeadbeef},
  // compiled with gcc on this machine.
  const rng = Rng.fromState({ algorithm: "xoshiro128**", words: [1, 2, 3, 0xdeadbeef] });
  const got = Array.from({ length: 6 }, () => rng.nextUint32());
  assert.deepEqual(got, [11520, 0, 1156443276, 2068460736, 1253564880, 3017539913]);
});

Deno.test("new Rng(seed) expands the seed with splitmix32 (pinned stream)", () => {
  const rng = new Rng(0);
  assert.deepEqual(rng.getState().words, [2462723854, 1020716019, 454327756, 1275600319]);
  assert.deepEqual([rng.nextUint32(), rng.nextUint32()], [3809008728, 1133695204]);
});

Deno.test("an Rng resumed from its JSON state continues the same stream", () => {
  const rng = new Rng(123);
  for (let i = 0; i < 17; i++) rng.normal();
  const saved = JSON.stringify(rng.getState());
  const expected = Array.from({ length: 10 }, () => rng.nextUint32());
  const resumed = Rng.fromState(JSON.parse(saved));
  assert.deepEqual(Array.from({ length: 10 }, () => resumed.nextUint32()), expected);
});

Deno.test("Rng rejects bad seeds and states", () => {
  assert.throws(() => new Rng(-1), RangeError);
  assert.throws(() => new Rng(1.5), RangeError);
  assert.throws(() => new Rng(2 ** 32), /'seed' must be an integer in \[0, 2\^32\)/);
  assert.throws(() => Rng.fromState({ algorithm: "xoshiro128**", words: [0, 0, 0, 0] }), TypeError);
});

Deno.test("Rng.int(6) is uniform (chi-square over 60,000 rolls)", () => {
  const rng = new Rng(7);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]! += 1;
  const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
  assert.ok(chi2 < 20.5, `chi2 = ${chi2} (p < 0.001 threshold for 5 dof is 20.5)`);
});

Deno.test("Rng.normalArray() has mean 0 and variance 1", () => {
  const n = 200_000;
  const z = new Rng(11).normalArray(n);
  let mean = 0;
  for (const v of z) mean += v / n;
  let variance = 0;
  for (const v of z) variance += (v - mean) ** 2 / n;
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 4 * Math.sqrt(2 / n), `variance ${variance}`);
});

Deno.test("Rng.permutation() draws each of the 6 orders of 3 items equally often", () => {
  const rng = new Rng(5);
  const counts = new Map<string, number>();
  for (let i = 0; i < 12_000; i++) {
    const key = [...rng.permutation(3)].join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - 2000) ** 2 / 2000, 0);
  assert.ok(chi2 < 20.5, `chi2 = ${chi2}`);
  assert.deepEqual([...new Rng(9).permutation(100)].sort((a, b) => a - b), [
    ...Array(100).keys(),
  ]);
});

Deno.test("deriveSeed() is deterministic, key-sensitive and a non-negative int32", () => {
  assert.equal(deriveSeed(0, ["shuffle", 1]), deriveSeed(0, ["shuffle", 1]));
  const seeds = new Set<number>();
  for (const keys of [[], ["a"], ["b"], ["a", 1], ["a", 2], [1, "a"], ["a1"], [2 ** 40]]) {
    const s = deriveSeed(42, keys);
    assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 31);
    seeds.add(s);
  }
  assert.equal(seeds.size, 8);
  assert.notEqual(deriveSeed(1, ["a"]), deriveSeed(2, ["a"]));
  assert.equal(deriveSeed(0, ["shuffle", 0]), 860879176); // pinned: part of the data contract
  assert.throws(() => deriveSeed(0, [0.5]), RangeError);
});
