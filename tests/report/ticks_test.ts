import assert from "node:assert/strict";
import { formatTick, linearTicks, logTicks, niceStep } from "../../lib/report/mod.ts";

Deno.test("niceStep() rounds to 1, 2 or 5 × 10^k", () => {
  assert.deepEqual([0.013, 0.23, 4, 6.9, 7.1, 1400].map(niceStep), [0.01, 0.2, 5, 5, 10, 1000]);
});

Deno.test("linearTicks() encloses the data with evenly spaced 1-2-5 ticks", () => {
  for (
    const [lo, hi] of [[0, 1], [-3.2, 7.9], [0.011, 0.015], [3.55, 4.7], [0, 9950], [1e-5, 9e-5]]
  ) {
    const t = linearTicks(lo!, hi!);
    assert.ok(t.domain[0] <= lo! && t.domain[1] >= hi!, `[${lo}, ${hi}] → ${t.domain}`);
    const values = t.major.map((m) => m.value);
    assert.ok(values.length >= 4 && values.length <= 9, `${values}`);
    const step = values[1]! - values[0]!;
    values.forEach((v, i) => assert.ok(Math.abs(v - (values[0]! + i * step)) < step * 1e-9));
    assert.equal(niceStep(step), Number(step.toPrecision(12)));
  }
  assert.deepEqual(linearTicks(0, 9950).major.map((m) => m.label), [
    "0",
    "2k",
    "4k",
    "6k",
    "8k",
    "10k",
  ]);
  assert.deepEqual(linearTicks(5, 5).domain, [4.4, 5.6]);
});

Deno.test("logTicks() labels decades over wide ranges and stays tight over narrow ones", () => {
  const wide = logTicks(0.004, 3);
  assert.deepEqual(wide.domain, [0.002, 5]);
  assert.deepEqual(wide.major.map((m) => m.label), ["0.01", "0.1", "1"]);
  assert.ok(wide.minor.includes(0.02) && wide.minor.includes(0.003));
  assert.deepEqual(logTicks(1e-8, 1e3).major.map((m) => m.label), [
    "1e-8",
    "1e-6",
    "1e-4",
    "0.01",
    "1",
    "100",
  ]);
  assert.deepEqual(logTicks(3.5, 3.6).domain, [3.5, 3.6]);
  assert.throws(() => logTicks(0, 1), RangeError);
});

Deno.test("formatTick() uses the step's decimals, k/M for big steps and exponents for tiny ones", () => {
  assert.equal(formatTick(1, 0.2), "1.0");
  assert.equal(formatTick(-0.00000001, 0.1), "0.0");
  assert.equal(formatTick(2_500_000, 500_000), "2.5M");
  assert.equal(formatTick(3e-5, 1e-5), "3e-5");
});
