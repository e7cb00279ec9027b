import assert from "node:assert/strict";
import { fmtMeanStd, fmtNumber, markdownTable, meanStd } from "../../lib/report/mod.ts";

Deno.test("markdownTable() pads columns and right-aligns numeric ones by default", () => {
  const md = markdownTable(["run", "bits/dim", "note"], [
    ["cosine", 3.6518, "a|b"],
    ["linear-long-name", "3.701 ± 0.010", "line\nbreak"],
  ]);
  assert.equal(
    md,
    [
      "| run              |      bits/dim | note       |",
      "| :--------------- | ------------: | :--------- |",
      "| cosine           |         3.652 | a\\|b       |",
      "| linear-long-name | 3.701 ± 0.010 | line break |",
    ].join("\n"),
  );
});

Deno.test("markdownTable() takes explicit alignments and rejects ragged rows", () => {
  const md = markdownTable(["a", "b"], [["x", "y"]], { align: ["center", "right"] });
  assert.equal(md.split("\n")[1], "| :-: | --: |");
  assert.throws(() => markdownTable(["a", "b"], [["x"]]), /row 0 has 1 cells/);
  assert.throws(() => markdownTable(["a"], [], { align: ["left", "left"] }), /2 alignments/);
});

Deno.test("meanStd() uses the n − 1 standard deviation and skips non-finite values", () => {
  const s = meanStd([1, 2, 3, 4, NaN]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.ok(Math.abs(s.sem - Math.sqrt(5 / 3) / 2) < 1e-15);
  assert.equal(s.n, 4);
  assert.ok(Number.isNaN(meanStd([1]).std));
});

Deno.test("fmtMeanStd() writes 'mean ± std' with fixed decimals and n when asked", () => {
  assert.equal(fmtMeanStd([1.224, 1.244], 3), "1.234 ± 0.014");
  assert.equal(fmtMeanStd([1, 2, 3], 2, { showN: true }), "2.00 ± 1.00 (n=3)");
  assert.equal(fmtMeanStd([5], 1), "5.0 (n=1)");
  assert.equal(fmtMeanStd([], 3), "–");
});

Deno.test("fmtNumber() writes significant digits, fixed decimals and special values", () => {
  assert.equal(fmtNumber(3.14159), "3.142");
  assert.equal(fmtNumber(1234567), "1.235e6");
  assert.equal(fmtNumber(0.000123), "1.23e-4");
  assert.equal(fmtNumber(-0.0001, 2, { style: "fixed" }), "0.00");
  assert.equal(fmtNumber(NaN), "NaN");
  assert.equal(fmtNumber(-Infinity), "−∞");
});
