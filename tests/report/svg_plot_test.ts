import assert from "node:assert/strict";
import { linePlot, type LinePlotSpec, pointPlot } from "../../lib/report/mod.ts";

/**
 * A strict check of the XML subset our SVG uses: one root element, balanced tags, quoted
 * attributes, no raw "<" or "&" outside entities. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const entity = /&(amp|lt|gt|quot|apos);/g;
  const text = (t: string) => {
    assert.ok(!/[<>]/.test(t) && !/&/.test(t.replace(entity, "")), `bad text: ${t.slice(0, 40)}`);
  };
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const open = xml.indexOf("<", i);
    const chunk = xml.slice(i, open < 0 ? xml.length : open);
    if (stack.length === 0) assert.equal(chunk.trim(), "", "content outside the root element");
    else text(chunk);
    if (open < 0) break;
    const close = xml.indexOf(">", open);
    assert.ok(close > open, "unterminated tag");
    const tag = xml.slice(open + 1, close);
    i = close + 1;
    if (tag.startsWith("/")) {
      assert.equal(stack.pop(), tag.slice(1), `mismatched </${tag.slice(1)}>`);
      continue;
    }
    const m = /^([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)$/.exec(tag);
    assert.ok(m, `malformed tag <${tag.slice(0, 60)}>`);
    for (const [, value] of m[2]!.matchAll(/="([^"]*)"/g)) text(value!);
    if (stack.length === 0) roots++;
    names.push(m[1]!);
    if (m[3] !== "/") stack.push(m[1]!);
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
  return names;
}

const steps = Array.from({ length: 50 }, (_, i) => i * 100);

Deno.test("linePlot() writes well-formed standalone SVG with a path per series and a legend", () => {
  const spec: LinePlotSpec = {
    series: [
      { name: "train", x: steps, y: steps.map((s) => 1 / (1 + s)) },
      { name: "test <ema> & more", x: steps, y: steps.map((s) => 2 / (1 + s)) },
    ],
    title: "loss",
    xLabel: "step",
    yLabel: "nats",
    logY: true,
  };
  const svg = linePlot(spec);
  const names = checkXml(svg);
  assert.equal(names[0], "svg");
  assert.match(
    svg,
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="400" viewBox="0 0 640 400"/,
  );
  assert.equal((svg.match(/<g class="series"/g) ?? []).length, 2);
  assert.ok(svg.includes("test &lt;ema&gt; &amp; more"));
  assert.ok(svg.includes('<g class="legend"'));
  assert.ok(
    svg.includes(">step</text>") && svg.includes(">nats</text>") &&
      svg.includes("<title>loss</title>"),
  );
  // A log axis over 1/(1+s): decade labels.
  for (const label of [">0.001<", ">0.01<", ">0.1<", ">1<"]) assert.ok(svg.includes(label), label);
  assert.equal(svg, linePlot(spec), "deterministic output");
});

Deno.test("linePlot() breaks lines at NaN, ±∞ and non-positive values on a log axis", () => {
  const svg = linePlot({
    series: [{ name: "y", x: [1, 2, 3, 4, 5, 6], y: [1, 2, NaN, 4, -1, 6] }],
    logY: true,
    markers: false,
  });
  checkXml(svg);
  const d = /<g class="series"[^>]*><path d="([^"]*)"/.exec(svg)![1]!;
  assert.equal((d.match(/M/g) ?? []).length, 3);
  assert.equal((d.match(/L/g) ?? []).length, 1);
  assert.ok(!svg.includes("NaN") && !svg.includes("Infinity"));
  assert.ok(!svg.includes('class="legend"'), "no legend for a single series");
});

Deno.test("linePlot() places points inside the plot area, min and max on its edges", () => {
  const svg = linePlot({ series: [{ name: "y", x: [0, 10], y: [0, 1] }], markers: false });
  const d = /<g class="series"[^>]*><path d="M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)"/.exec(svg)!;
  const axes = /class="axes" d="M([\d.]+) ([\d.]+)V([\d.]+)H([\d.]+)/.exec(svg)!;
  const [left, top, bottom, right] = axes.slice(1, 5).map(Number);
  assert.deepEqual(d.slice(1, 5).map(Number), [left, bottom, right, top]);
  assert.throws(() => linePlot({ series: [{ name: "bad", x: [1, 2], y: [1] }] }), /one y per x/);
});

Deno.test("pointPlot() draws categories in order with mean ± std bars, dodged per series", () => {
  const svg = pointPlot({
    series: [
      { name: "linear", x: ["1e-4", "3e-4", "1e-3"], mean: [3.9, 3.7, 3.8], std: [0.1, 0.05, 0.2] },
      { name: "cosine", x: ["1e-4", "3e-4", "1e-3"], mean: [3.8, 3.6, 3.7], std: [0.1, 0.05, 0.2] },
    ],
    xLabel: "lr",
    yLabel: "bits/dim",
  });
  checkXml(svg);
  const labels = [...svg.matchAll(/>(1e-4|3e-4|1e-3)</g)].map((m) => m[1]);
  assert.deepEqual(labels, ["1e-4", "3e-4", "1e-3"]);
  assert.equal((svg.match(/<circle/g) ?? []).length, 6);
  assert.equal((svg.match(/class="error-bars"/g) ?? []).length, 2);
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(xs[0]! < xs[3]!, "the second series sits right of the first in each category");
  assert.ok(!svg.includes("stroke-opacity"), "categories are not joined by lines");
  // Each bar spans mean ± std: lengths in pixels are proportional to std (0.1, 0.05, 0.2).
  const bars = /class="error-bars" d="([^"]*)"/.exec(svg)![1]!;
  const len = [...bars.matchAll(/M[\d.]+ ([\d.]+)V([\d.]+)/g)].map((m) =>
    Number(m[2]) - Number(m[1])
  );
  assert.equal(len.length, 3);
  assert.ok(
    Math.abs(len[0]! / len[1]! - 2) < 0.01 && Math.abs(len[2]! / len[1]! - 4) < 0.01,
    `${len}`,
  );
});

Deno.test("pointPlot() on a numeric log x axis joins points and rejects mismatched lengths", () => {
  const svg = pointPlot({
    series: [{ name: "ddpm", x: [50, 100, 1000], mean: [5, 4, 3.7], std: [0.2, 0.1, 0.05] }],
    logX: true,
  });
  checkXml(svg);
  assert.ok(svg.includes('stroke-opacity="0.7"'), "points are joined");
  for (const label of [">100<", ">1000<"]) assert.ok(svg.includes(label), label);
  assert.throws(
    () => pointPlot({ series: [{ name: "a", x: [1, 2], mean: [1] }] }),
    /lengths differ/,
  );
  assert.throws(
    () => pointPlot({ series: [{ name: "a", x: ["a"], mean: [1] }], logX: true }),
    TypeError,
  );
});
