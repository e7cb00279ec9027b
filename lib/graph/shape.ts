/**
 * Symbolic shapes: `"B,D"`, `"B,28,28,1"`, `"B,..."`.
 *
 * A shape spec is a comma-separated list of dimensions. A dimension is a number, a symbol
 * (letters, digits, `_`), or `...` (any number of dimensions, at most once). Symbols are local to
 * one node, except the batch symbol `B`, which is shared by the whole graph. Unifying a node's
 * specs with the concrete shapes flowing into it binds its symbols; its output shapes are then its
 * output specs with those bindings substituted.
 *
 * @module
 */

/** One dimension of an inferred shape: a number, or the graph-wide batch symbol `"B"`. */
export type Dim = number | "B";

/** An inferred shape. */
export type Shape = readonly Dim[];

/** One parsed dimension of a spec. */
export type SpecDim =
  | { kind: "fixed"; size: number }
  | { kind: "symbol"; name: string }
  | { kind: "rest" };

/** Symbol bindings of one node: symbol name → dimension, and `...` → a run of dimensions. */
export interface Bindings {
  /** Bound symbols. */
  dims: Map<string, Dim>;
  /** The dimensions matched by `...`, once bound. */
  rest: Shape | null;
}

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a shape spec such as `"B,D"` into dimensions.
 *
 * @param spec The spec string.
 * @returns The parsed dimensions.
 * @throws {TypeError} When the spec is malformed.
 *
 * @example Parse a spec
 * ```ts
 * import { parseShape } from "./shape.ts";
 * parseShape("B,28,28,1").length; // 4
 * ```
 */
export function parseShape(spec: string): SpecDim[] {
  const parts = spec.split(",").map((p) => p.trim());
  const dims: SpecDim[] = [];
  let rests = 0;
  for (const p of parts) {
    if (p === "...") {
      rests++;
      dims.push({ kind: "rest" });
    } else if (/^[0-9]+$/.test(p) && Number(p) > 0) {
      dims.push({ kind: "fixed", size: Number(p) });
    } else if (SYMBOL.test(p)) {
      dims.push({ kind: "symbol", name: p });
    } else {
      throw new TypeError(
        `Cannot parse shape spec as dimension '${p}' is not a positive integer, a symbol or '...': current value is "${spec}"`,
      );
    }
  }
  if (rests > 1) {
    throw new TypeError(
      `Cannot parse shape spec as '...' may appear at most once: current value is "${spec}"`,
    );
  }
  return dims;
}

/**
 * Formats a concrete or inferred shape for messages: `[B, 784]`.
 *
 * @param shape The shape.
 * @returns The shape as text.
 *
 * @example Format a shape
 * ```ts
 * import { formatShape } from "./shape.ts";
 * formatShape(["B", 784]); // "[B, 784]"
 * ```
 */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Creates empty bindings, optionally pre-bound from a node's known dimensions.
 *
 * @param known Symbol values the node knows from its options (e.g. `{ Z: 32 }`).
 * @returns Fresh bindings.
 *
 * @example Pre-bind a latent size
 * ```ts
 * import { newBindings } from "./shape.ts";
 * newBindings({ Z: 32 }).dims.get("Z"); // 32
 * ```
 */
export function newBindings(known: Readonly<Record<string, number>> = {}): Bindings {
  return { dims: new Map(Object.entries(known)), rest: null };
}

/**
 * Unifies a spec with a shape, extending the bindings.
 *
 * @param spec The parsed spec.
 * @param shape The shape flowing in.
 * @param b The bindings to extend (mutated on success).
 * @returns `null` on success, or a short reason for the mismatch.
 *
 * @example Bind D from a data shape
 * ```ts
 * import { newBindings, parseShape, unify } from "./shape.ts";
 * const b = newBindings();
 * unify(parseShape("B,D"), ["B", 784], b); // null
 * b.dims.get("D"); // 784
 * ```
 */
export function unify(spec: readonly SpecDim[], shape: Shape, b: Bindings): string | null {
  const restAt = spec.findIndex((d) => d.kind === "rest");
  const fixedCount = restAt < 0 ? spec.length : spec.length - 1;
  if (restAt < 0 ? shape.length !== spec.length : shape.length < fixedCount) {
    return `rank ${shape.length} does not match rank ${restAt < 0 ? "" : "≥ "}${fixedCount}`;
  }
  const trial = new Map(b.dims);
  let trialRest = b.rest;
  const match = (d: SpecDim, actual: Dim): string | null => {
    if (d.kind === "fixed") return d.size === actual ? null : `expected ${d.size}, got ${actual}`;
    if (d.kind === "rest") return null;
    const name = d.name === "B" ? "B" : d.name;
    const bound = trial.get(name);
    if (bound === undefined) {
      trial.set(name, actual);
      return null;
    }
    return bound === actual ? null : `'${d.name}' is ${bound} but got ${actual}`;
  };
  const tail = spec.length - restAt - 1;
  for (let i = 0; i < spec.length; i++) {
    const d = spec[i]!;
    if (d.kind === "rest") {
      const run = shape.slice(i, shape.length - tail);
      if (trialRest !== null && formatShape(trialRest) !== formatShape(run)) {
        return `'...' is ${formatShape(trialRest)} but got ${formatShape(run)}`;
      }
      trialRest = run;
      continue;
    }
    const j = restAt >= 0 && i > restAt ? shape.length - (spec.length - i) : i;
    const why = match(d, shape[j]!);
    if (why !== null) return why;
  }
  b.dims = trial;
  b.rest = trialRest;
  return null;
}

/**
 * Substitutes bindings into a spec, giving the inferred shape.
 *
 * @param spec The parsed spec.
 * @param b The bindings.
 * @returns The shape, or the name of the first unbound symbol.
 *
 * @example Resolve an output spec
 * ```ts
 * import { newBindings, parseShape, resolve } from "./shape.ts";
 * const b = newBindings({ Z: 2 });
 * b.dims.set("B", "B");
 * resolve(parseShape("B,Z"), b); // { shape: ["B", 2] }
 * ```
 */
export function resolve(
  spec: readonly SpecDim[],
  b: Bindings,
): { shape: Shape } | { unbound: string } {
  const out: Dim[] = [];
  for (const d of spec) {
    if (d.kind === "fixed") out.push(d.size);
    else if (d.kind === "rest") {
      if (b.rest === null) return { unbound: "..." };
      out.push(...b.rest);
    } else {
      const v = b.dims.get(d.name) ?? (d.name === "B" ? "B" : undefined);
      if (v === undefined) return { unbound: d.name };
      out.push(v);
    }
  }
  return { shape: out };
}
