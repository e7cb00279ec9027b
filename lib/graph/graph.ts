/**
 * The experiment graph: a typed builder whose static type grows as nodes are added, and
 * build-time validation that turns wiring mistakes into specific errors before any training.
 *
 * @module
 */

import type { AnyNode, Json, Node, ParamSpec } from "./node.ts";
import {
  type Bindings,
  type Dim,
  formatShape,
  newBindings,
  parseShape,
  resolve,
  type Shape,
  unify,
} from "./shape.ts";

/** The reasons a graph is rejected at build time. */
export type GraphErrorCode =
  | "bad-name"
  | "duplicate-name"
  | "unknown-input"
  | "unknown-ref"
  | "missing-input"
  | "shape-mismatch"
  | "unbound-dim"
  | "cycle"
  | "no-trainable"
  | "unused-output"
  | "no-loss"
  | "bad-weight";

/** A graph wiring error, raised by {@linkcode GraphBuilder.build}. */
export class GraphError extends Error {
  /**
   * Creates a wiring error.
   *
   * @param code What kind of mistake it is (stable, for tests and tools).
   * @param message The Deno-style message naming the problem and the fix.
   */
  constructor(readonly code: GraphErrorCode, message: string) {
    super(message);
    this.name = "GraphError";
  }
}

/** One node as the builder recorded it. */
export interface NodeEntry {
  /** Unique node name in the graph. */
  name: string;
  /** The node. */
  node: AnyNode;
  /** Input name → ref (`"x"` for a graph input, `"enc.mu"` for a node output). */
  wiring: Readonly<Record<string, string>>;
  /** Loss weight, for nodes added with `loss()`; `null` for other nodes. */
  weight: number | null;
}

/** An untyped graph description: what the builder produces, or what tools may write directly. */
export interface GraphSpec {
  /** Graph inputs (data feeds) and their shape specs, e.g. `{ x: "B,784" }`. */
  inputs: Readonly<Record<string, string>>;
  /** Nodes and losses, in any order. */
  nodes: readonly NodeEntry[];
}

/** A node after validation: its wiring resolved, shapes inferred, parameters known. */
export interface ResolvedNode {
  /** The node name. */
  name: string;
  /** The node. */
  node: AnyNode;
  /** Input name → ref. */
  wiring: Readonly<Record<string, string>>;
  /** Loss weight, or `null` when the node is not an objective term. */
  weight: number | null;
  /** Its symbol bindings. */
  bindings: Bindings;
  /** Inferred output shapes. */
  outputs: ReadonlyMap<string, Shape>;
  /** Its parameters, by name. */
  params: Readonly<Record<string, ParamSpec>>;
  /** Names of the nodes it reads from. */
  deps: readonly string[];
}

/** The wiring object `add()` accepts: every required input, optional ones, nothing else. */
export type Wiring<I extends string, OI extends string, R extends string> =
  & { [K in I]: R }
  & { [K in OI]?: R };

/** A validated graph. Create with {@linkcode graph} and `build()`. */
export class Graph<R extends string = string> {
  /** Graph input name → shape. */
  readonly inputs: ReadonlyMap<string, Shape>;
  /** Nodes in topological order. */
  readonly nodes: readonly ResolvedNode[];
  /** Ref → inferred shape, for every graph input and node output. */
  readonly shapes: ReadonlyMap<R, Shape>;

  /** @internal Use {@linkcode buildGraph}. */
  constructor(
    inputs: ReadonlyMap<string, Shape>,
    nodes: readonly ResolvedNode[],
    shapes: ReadonlyMap<R, Shape>,
  ) {
    this.inputs = inputs;
    this.nodes = nodes;
    this.shapes = shapes;
  }

  /** The nodes added with `loss()`, i.e. the objective terms. */
  get losses(): ResolvedNode[] {
    return this.nodes.filter((n) => n.weight !== null);
  }

  /** Looks up a node by name. */
  node(name: string): ResolvedNode {
    const n = this.nodes.find((n) => n.name === name);
    if (n === undefined) throw new RangeError(`Cannot find node '${name}' in the graph`);
    return n;
  }

  /**
   * Names of the nodes needed to compute `targets`, in order, stopping at `feeds`.
   *
   * @param targets Refs to compute.
   * @param feeds Refs that will be given (their producers are not run).
   * @returns Node names in topological order.
   */
  needed(targets: readonly string[], feeds: readonly string[] = []): string[] {
    const fed = new Set(feeds);
    const need = new Set<string>();
    const visit = (ref: string) => {
      if (fed.has(ref) || this.inputs.has(ref)) return;
      const producer = ref.split(".")[0]!;
      if (need.has(producer)) return;
      need.add(producer);
      for (const r of Object.values(this.node(producer).wiring)) visit(r);
    };
    for (const t of targets) {
      if (!this.shapes.has(t as R)) {
        throw new RangeError(
          `Cannot plan for target '${t}' as the graph has no such ref: known refs are ${
            [...this.shapes.keys()].join(", ")
          }`,
        );
      }
      visit(t);
    }
    return this.nodes.filter((n) => need.has(n.name)).map((n) => n.name);
  }

  /**
   * A JSON fingerprint of the nodes that `targets` depend on: node kinds, configs, wiring,
   * weights and input shapes. Two graphs with equal fingerprints for their losses train the same.
   *
   * @param targets Refs (default: every loss).
   * @returns JSON describing those nodes.
   */
  fingerprint(targets?: readonly string[]): Json {
    const t = targets ?? this.losses.map((n) => `${n.name}.loss`);
    const names = this.needed(t);
    return {
      inputs: Object.fromEntries([...this.inputs].map(([k, s]) => [k, formatShape(s)])),
      nodes: names.map((name) => {
        const n = this.node(name);
        return {
          name,
          kind: n.node.spec.name,
          config: n.node.spec.config ?? null,
          wiring: { ...n.wiring },
          weight: n.weight,
        };
      }),
    };
  }
}

function refOf(ref: string): { node: string; output: string | null } {
  const dot = ref.indexOf(".");
  return dot < 0 ? { node: ref, output: null } : {
    node: ref.slice(0, dot),
    output: ref.slice(dot + 1),
  };
}

/**
 * Validates an untyped graph spec and infers every shape.
 *
 * @param spec Inputs and nodes.
 * @returns The validated graph.
 * @throws {GraphError} On any wiring mistake, with a message naming it and the fix.
 *
 * @example Build from a spec
 * ```ts
 * import { buildGraph } from "./graph.ts";
 * const g = buildGraph({ inputs: { x: "B,4" }, nodes: [] });
 * g.inputs.get("x"); // ["B", 4]
 * ```
 */
export function buildGraph(spec: GraphSpec): Graph {
  const inputs = new Map<string, Shape>();
  for (const [name, s] of Object.entries(spec.inputs)) {
    if (name.length === 0 || name.includes(".")) {
      throw new GraphError(
        "bad-name",
        `Cannot build graph as input name must be non-empty without '.': current value is "${name}"`,
      );
    }
    const dims = parseShape(s);
    const b = newBindings();
    const r = resolve(dims, b);
    if ("unbound" in r || r.shape[0] !== "B" || r.shape.slice(1).some((d) => d === "B")) {
      throw new GraphError(
        "bad-name",
        `Cannot build graph as input '${name}' must be "B" followed by fixed sizes (e.g. "B,784"): current value is "${s}"`,
      );
    }
    inputs.set(name, r.shape);
  }
  const byName = new Map<string, NodeEntry>();
  for (const e of spec.nodes) {
    if (e.name.length === 0 || e.name.includes(".")) {
      throw new GraphError(
        "bad-name",
        `Cannot add node as its name must be non-empty without '.': current value is "${e.name}"`,
      );
    }
    if (byName.has(e.name) || inputs.has(e.name)) {
      throw new GraphError(
        "duplicate-name",
        `Cannot add node '${e.name}' (${e.node.spec.name}) as the name is already used by ${
          inputs.has(e.name)
            ? "a graph input"
            : `node '${e.name}' (${byName.get(e.name)!.node.spec.name})`
        }: give it a unique name`,
      );
    }
    if (e.weight !== null && !(Number.isFinite(e.weight) && e.weight >= 0)) {
      throw new GraphError(
        "bad-weight",
        `Cannot add loss '${e.name}' as its weight must be a finite number ≥ 0: current value is ${e.weight}`,
      );
    }
    byName.set(e.name, e);
  }

  // Wiring: names and refs.
  const deps = new Map<string, string[]>();
  for (const e of spec.nodes) {
    const declared = e.node.inputShapes;
    for (const key of Object.keys(e.wiring)) {
      if (!declared.has(key)) {
        throw new GraphError(
          "unknown-input",
          `Cannot wire node '${e.name}' (${e.node.spec.name}) as it has no input '${key}': its inputs are ${
            [...declared.keys()].join(", ")
          }`,
        );
      }
    }
    for (const key of Object.keys(e.node.spec.inputs)) {
      if (!(key in e.wiring)) {
        throw new GraphError(
          "missing-input",
          `Cannot wire node '${e.name}' (${e.node.spec.name}) as required input '${key}' is not wired: wire it to a graph input or a node output`,
        );
      }
    }
    const d: string[] = [];
    for (const [key, ref] of Object.entries(e.wiring)) {
      const { node, output } = refOf(ref);
      if (output === null) {
        if (!inputs.has(node)) {
          throw new GraphError(
            "unknown-ref",
            `Cannot wire '${e.name}.${key}' to '${ref}' as the graph has no input '${ref}': graph inputs are ${
              [...inputs.keys()].join(", ") || "(none)"
            }`,
          );
        }
        continue;
      }
      const producer = byName.get(node);
      if (producer === undefined) {
        throw new GraphError(
          "unknown-ref",
          `Cannot wire '${e.name}.${key}' to '${ref}' as the graph has no node '${node}'`,
        );
      }
      if (!producer.node.outputShapes.has(output)) {
        throw new GraphError(
          "unknown-ref",
          `Cannot wire '${e.name}.${key}' to '${ref}' as node '${node}' (${producer.node.spec.name}) has no output '${output}': its outputs are ${
            [...producer.node.outputShapes.keys()].join(", ")
          }`,
        );
      }
      if (!d.includes(node)) d.push(node);
    }
    deps.set(e.name, d);
  }

  // Topological order (declaration order where free), cycles reported with their path.
  const order: string[] = [];
  const mark = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    const m = mark.get(name);
    if (m === "done") return;
    if (m === "visiting") {
      const cyc = [...path.slice(path.indexOf(name)), name];
      throw new GraphError(
        "cycle",
        `Cannot build graph as it has a cycle: ${
          cyc.join(" → ")
        }; break it by feeding one of these values from outside`,
      );
    }
    mark.set(name, "visiting");
    for (const d of deps.get(name)!) visit(d, [...path, name]);
    mark.set(name, "done");
    order.push(name);
  };
  for (const e of spec.nodes) visit(e.name, []);

  // Shapes, in order.
  const shapes = new Map<string, Shape>(inputs);
  const resolved: ResolvedNode[] = [];
  for (const name of order) {
    const e = byName.get(name)!;
    const b = newBindings(e.node.spec.dims ?? {});
    for (const [key, ref] of Object.entries(e.wiring)) {
      const actual = shapes.get(ref)!;
      const specDims = e.node.inputShapes.get(key)!;
      const why = unify(specDims, actual, b);
      if (why !== null) {
        const declared = (e.node.spec.inputs as Record<string, string>)[key] ??
          (e.node.spec.optionalInputs as Record<string, string>)[key];
        throw new GraphError(
          "shape-mismatch",
          `Cannot wire '${e.name}.${key}' to '${ref}' as the shapes do not match: '${ref}' is ${
            formatShape(actual)
          } but ${e.node.spec.name} input '${key}' expects "${declared}" (${why}${boundList(b)})`,
        );
      }
    }
    const dimOf = (sym: string) => {
      const v: Dim | undefined = b.dims.get(sym);
      if (typeof v !== "number") {
        throw new GraphError(
          "unbound-dim",
          `Cannot size '${name}' (${e.node.spec.name}) as symbol '${sym}' is ${
            v === undefined ? "unbound" : "the batch size"
          }: bind it through an input shape or the node's dims`,
        );
      }
      return v;
    };
    for (const [sym, size] of Object.entries(e.node.spec.outputDims?.({ dim: dimOf }) ?? {})) {
      b.dims.set(sym, size);
    }
    const outputs = new Map<string, Shape>();
    for (const [o, specDims] of e.node.outputShapes) {
      const r = resolve(specDims, b);
      if ("unbound" in r) {
        throw new GraphError(
          "unbound-dim",
          `Cannot infer the shape of '${name}.${o}' as symbol '${r.unbound}' is not bound by any input: give it in the node's dims`,
        );
      }
      outputs.set(o, r.shape);
      shapes.set(`${name}.${o}`, r.shape);
    }
    const params = e.node.spec.params?.({ dim: dimOf }) ?? {};
    resolved.push({
      name,
      node: e.node,
      wiring: e.wiring,
      weight: e.weight,
      bindings: b,
      outputs,
      params,
      deps: deps.get(name)!,
    });
  }

  const g = new Graph(inputs, resolved, shapes);
  checkObjective(g);
  return g;
}

function boundList(b: Bindings): string {
  const parts = [...b.dims].filter(([k]) => k !== "B").map(([k, v]) => `${k}=${v}`);
  return parts.length ? `; bound so far: ${parts.join(", ")}` : "";
}

function checkObjective(g: Graph): void {
  const consumed = new Set<string>();
  for (const n of g.nodes) for (const r of Object.values(n.wiring)) consumed.add(r);
  for (const n of g.nodes) {
    for (const o of n.node.spec.mustConsume ?? []) {
      const ref = `${n.name}.${o}`;
      if (!consumed.has(ref)) {
        throw new GraphError(
          "unused-output",
          `Cannot build graph as output '${ref}' is never used: ${n.node.spec.name} requires it to be consumed (wire it into a loss or node)`,
        );
      }
    }
  }
  const trainable = new Set(
    g.nodes.filter((n) => Object.values(n.params).some((p) => p.trainable !== false)).map((n) =>
      n.name
    ),
  );
  for (const loss of g.losses) {
    const needed = g.needed([`${loss.name}.loss`]);
    if (!needed.some((name) => trainable.has(name))) {
      throw new GraphError(
        "no-trainable",
        `Cannot use '${loss.name}' (${loss.node.spec.name}) as a loss as it depends on no trainable parameter: wire it to a network output, or add it with add() as a metric`,
      );
    }
  }
}

/** The typed graph builder. Its type parameter `R` is the union of refs wired so far. */
export class GraphBuilder<R extends string> {
  readonly #inputs: Readonly<Record<string, string>>;
  readonly #nodes: readonly NodeEntry[];

  /** @internal Use {@linkcode graph}. */
  constructor(inputs: Readonly<Record<string, string>>, nodes: readonly NodeEntry[]) {
    this.#inputs = inputs;
    this.#nodes = nodes;
  }

  /**
   * Adds a node. Its wiring must name every required input and only refs that exist so far, or
   * `deno check` fails.
   *
   * @param name Unique node name; its outputs become refs `name.output`.
   * @param node The node.
   * @param wiring Input name → ref.
   * @returns A builder that also knows this node's outputs.
   */
  add<N extends string, I extends string, OI extends string, O extends string>(
    name: N,
    node: Node<I, OI, O>,
    wiring: Wiring<I, OI, R>,
  ): GraphBuilder<R | `${N}.${O}`> {
    return new GraphBuilder(this.#inputs, [...this.#nodes, {
      name,
      node,
      wiring: wiring as Record<string, string>,
      weight: null,
    }]);
  }

  /**
   * Adds an objective term: a node made by `defineLoss`, whose mean over the batch, times
   * `weight`, is added to the training loss.
   *
   * @param name Unique name; the term is logged under it.
   * @param node The loss node.
   * @param wiring Input name → ref.
   * @param options `weight` (default 1).
   * @returns A builder that also knows `name.loss`.
   */
  loss<N extends string, I extends string, OI extends string>(
    name: N,
    node: Node<I, OI, "loss">,
    wiring: Wiring<I, OI, R>,
    options: { weight?: number } = {},
  ): GraphBuilder<R | `${N}.loss`> {
    return new GraphBuilder(this.#inputs, [...this.#nodes, {
      name,
      node,
      wiring: wiring as Record<string, string>,
      weight: options.weight ?? 1,
    }]);
  }

  /** The untyped spec built so far. */
  get spec(): GraphSpec {
    return { inputs: this.#inputs, nodes: this.#nodes };
  }

  /**
   * Validates the graph and infers its shapes.
   *
   * @returns The graph.
   * @throws {GraphError} On wiring mistakes.
   */
  build(): Graph<R> {
    return buildGraph(this.spec) as Graph<R>;
  }
}

/**
 * Starts a graph from its data inputs.
 *
 * @param inputs Input name → shape spec, batch first (`{ x: "B,784", y: "B" }`).
 * @returns An empty builder whose refs are the input names.
 *
 * @example A tiny graph
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { defineNode } from "./node.ts";
 * import { graph } from "./graph.ts";
 * const id = defineNode({
 *   name: "id",
 *   inputs: { x: "B,D" },
 *   outputs: { y: "B,D" },
 *   fn: ({ x }) => ({ y: tf.clone(x) }),
 * });
 * const g = graph({ x: "B,3" }).add("a", id, { x: "x" }).build();
 * g.shapes.get("a.y"); // ["B", 3]
 * ```
 */
export function graph<K extends string>(inputs: { readonly [P in K]: string }): GraphBuilder<K> {
  return new GraphBuilder<K>(inputs, []);
}
