/**
 * `compile(graph)`: creates the nodes' variables and returns plans — the train step (forward,
 * loss, gradients and optimiser update in one `tf.tidy`), and forward plans for sampling and
 * evaluation that run only the nodes their targets need.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Graph, ResolvedNode } from "./graph.ts";
import type { NodeContext, ParamInit, ParamSpec } from "./node.ts";
import { deriveSeed } from "../data/random.ts";
import { RandomStream } from "./rng.ts";
import { Adam } from "../train/adam.ts";
import { inOneSubmission } from "../backend/webgpu_submit.ts";
import type { Scalar, Tensor, Variable } from "../types.ts";

/** Optimiser settings. Adam is the only optimiser so far; the union leaves room for more. */
export interface OptimizerSpec {
  /** The algorithm. */
  kind: "adam";
  /** Learning rate. */
  lr: number;
  /** Adam β₁. @default 0.9 */
  beta1?: number;
  /** Adam β₂. @default 0.999 */
  beta2?: number;
  /** Adam ε. @default 1e-8 */
  epsilon?: number;
  /** Clip the global gradient norm to this value; 0 disables. @default 0 */
  clipNorm?: number;
}

/** Options of {@linkcode compile}. */
export interface CompileOptions {
  /** Seed of parameter initialisation and of every node's random stream. @default 0 */
  seed?: number;
  /** The optimiser. @default { kind: "adam", lr: 1e-3 } */
  optimizer?: OptimizerSpec;
}

/** A forward plan: the nodes that computing `targets` from `feeds` needs. */
export interface Plan {
  /** Refs the plan returns. */
  targets: readonly string[];
  /** Refs the caller provides besides graph inputs. */
  feeds: readonly string[];
  /** The nodes it runs, in order. */
  nodes: readonly string[];
}

/** Options of a forward run. */
export interface RunOptions {
  /** Training mode (dropout, label dropout, state updates). @default false */
  training?: boolean;
  /** Step (or evaluation index) that keys the random streams. @default 0 */
  step?: number;
}

/** What one train step returns: the weighted total and each loss term's batch mean (scalars). */
export interface StepResult {
  /** Σ weight · mean(term). */
  total: Scalar;
  /** Batch mean of each loss term, by loss name. */
  terms: Record<string, Scalar>;
  /** Tensors the caller asked to keep (`keep` option), by ref. The caller disposes them. */
  kept: Record<string, Tensor>;
}

function initTensor(spec: ParamSpec, seed: number): Tensor {
  const shape = spec.shape;
  const fanIn = shape.length >= 2 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : shape[0] ?? 1;
  const fanOut = shape.length >= 1 ? shape[shape.length - 1]! : 1;
  const init: ParamInit = spec.init;
  if (init === "zeros") return tf.zeros(shape);
  if (init === "ones") return tf.ones(shape);
  if (init === "glorotUniform") {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.randomUniform(shape, -limit, limit, "float32", seed);
  }
  if (init === "lecunNormal") {
    return tf.randomNormal(shape, 0, Math.sqrt(1 / fanIn), "float32", seed);
  }
  if ("normal" in init) return tf.randomNormal(shape, 0, init.normal, "float32", seed);
  return tf.randomUniform(shape, -init.uniform, init.uniform, "float32", seed);
}

let compileCount = 0;

/** A node's output must have the shape the build inferred (the batch size aside). */
function checkShape(n: ResolvedNode, output: string, t: Tensor): void {
  const want = n.outputs.get(output)!;
  const ok = t.rank === want.length && want.every((d, i) => d === "B" || d === t.shape[i]);
  if (!ok) {
    throw new TypeError(
      `Cannot use output '${n.name}.${output}' of ${n.node.spec.name} as it has shape [${t.shape}] but its spec promises [${
        want.join(", ")
      }]: fix the node's fn (a loss must return [B])`,
    );
  }
}

/** A compiled graph: variables plus plans. Create with {@linkcode compile}. */
export class Compiled<R extends string = string> {
  /** The graph it was compiled from. */
  readonly graph: Graph<R>;
  /** Every variable, by `node/param`. Trainable and state variables alike. */
  readonly variables: ReadonlyMap<string, Variable>;
  /** The optimiser's settings. */
  readonly optimizerSpec: OptimizerSpec;
  /** The optimiser (its state is checkpointed). */
  readonly optimizer: Adam;
  /** The run seed. */
  readonly seed: number;
  readonly #params = new Map<string, Record<string, Variable>>();
  readonly #state = new Map<string, Record<string, Variable>>();
  readonly #trainable: Variable[] = [];
  readonly #plans = new Map<string, Plan>();

  /** @internal Use {@linkcode compile}. */
  constructor(graph: Graph<R>, options: CompileOptions) {
    compileCount++;
    this.graph = graph;
    this.seed = options.seed ?? 0;
    this.optimizerSpec = options.optimizer ?? { kind: "adam", lr: 1e-3 };
    const vars = new Map<string, Variable>();
    for (const n of graph.nodes) {
      const params: Record<string, Variable> = {};
      const state: Record<string, Variable> = {};
      for (const [p, spec] of Object.entries(n.params)) {
        const name = `${n.name}/${p}`;
        const trainable = spec.trainable !== false;
        const v = tf.tidy(() =>
          tf.variable(
            initTensor(spec, deriveSeed(this.seed, ["init", name])),
            trainable,
            `elbo${compileCount}/${name}`, // tfjs variable names are process-global
          )
        );
        vars.set(name, v);
        (trainable ? params : state)[p] = v;
        if (trainable) this.#trainable.push(v);
      }
      this.#params.set(n.name, params);
      this.#state.set(n.name, state);
    }
    this.variables = vars;
    const { kind: _, clipNorm: __, ...adam } = this.optimizerSpec;
    this.optimizer = new Adam(this.#trainable, adam);
  }

  /** The trainable variables, in graph order. */
  get trainable(): readonly Variable[] {
    return this.#trainable;
  }

  /** Number of trainable scalars. */
  get parameterCount(): number {
    return this.#trainable.reduce((s, v) => s + v.size, 0);
  }

  /**
   * The plan that computes `targets` given `feeds`: only the nodes they need.
   *
   * @param targets Refs to compute.
   * @param feeds Refs the caller will provide besides graph inputs.
   * @returns The plan (cached).
   */
  plan(targets: readonly R[], feeds: readonly R[] = []): Plan {
    const key = `${targets.join(",")}|${feeds.join(",")}`;
    let p = this.#plans.get(key);
    if (p === undefined) {
      p = { targets, feeds, nodes: this.graph.needed(targets, feeds) };
      this.#plans.set(key, p);
    }
    return p;
  }

  /**
   * Runs a forward plan. Synchronous; call it inside `tf.tidy` (or dispose what it returns).
   *
   * @param targets Refs to compute.
   * @param feeds Graph inputs and any other refs to feed.
   * @param options Training mode and step.
   * @returns The target tensors, by ref.
   */
  run<T extends R>(
    targets: readonly T[],
    feeds: Partial<Record<R, Tensor>>,
    options: RunOptions = {},
  ): Record<T, Tensor> {
    const fedRefs = Object.keys(feeds) as R[];
    const plan = this.plan(targets, fedRefs.filter((r) => !this.graph.inputs.has(r)));
    const values = new Map<string, Tensor>(Object.entries(feeds) as [string, Tensor][]);
    for (const input of this.graph.inputs.keys()) {
      if (!values.has(input) && plan.nodes.some((n) => this.#reads(n, input))) {
        throw new TypeError(
          `Cannot run plan for ${targets.join(", ")} as graph input '${input}' is not fed`,
        );
      }
    }
    for (const name of plan.nodes) this.#runNode(this.graph.node(name), values, options);
    const out = {} as Record<T, Tensor>;
    for (const t of targets) out[t] = values.get(t)!;
    return out;
  }

  #reads(node: string, ref: string): boolean {
    return Object.values(this.graph.node(node).wiring).includes(ref);
  }

  #runNode(n: ResolvedNode, values: Map<string, Tensor>, options: RunOptions): void {
    const inputs: Record<string, Tensor> = {};
    for (const [key, ref] of Object.entries(n.wiring)) {
      const v = values.get(ref);
      if (v === undefined) {
        throw new TypeError(
          `Cannot run node '${n.name}' as its input '${key}' ('${ref}') has no value`,
        );
      }
      inputs[key] = v;
    }
    const step = options.step ?? 0;
    const ctx: NodeContext = {
      params: this.#params.get(n.name)!,
      state: this.#state.get(n.name)!,
      rng: new RandomStream(this.seed, n.name, step),
      training: options.training ?? false,
      step,
      dim: (sym) => {
        const v = n.bindings.dims.get(sym);
        if (typeof v === "number") return v;
        if (v === "B") {
          const first = Object.values(inputs)[0];
          if (first !== undefined) return first.shape[0]!;
        }
        throw new RangeError(`Cannot read dim '${sym}' of node '${n.name}' as it is not bound`);
      },
    };
    const out = n.node.spec.fn(inputs, ctx) as Record<string, Tensor>;
    for (const o of n.outputs.keys()) {
      const t = out[o];
      if (t === undefined) {
        throw new TypeError(
          `Cannot run node '${n.name}' (${n.node.spec.name}) as it returned no '${o}'`,
        );
      }
      checkShape(n, o, t);
      values.set(`${n.name}.${o}`, t);
    }
  }

  /**
   * Computes every loss term (per example, `[B]`) without updating anything.
   *
   * @param feeds Graph inputs.
   * @param options Training mode, step, and extra refs to compute alongside (`extra`).
   * @returns Per-example terms by loss name, the weighted total (scalar), and the extra refs.
   */
  losses(
    feeds: Partial<Record<R, Tensor>>,
    options: RunOptions & { extra?: readonly R[] } = {},
  ): { total: Scalar; terms: Record<string, Tensor>; extra: Record<string, Tensor> } {
    const losses = this.graph.losses;
    if (losses.length === 0) {
      throw new TypeError("Cannot compute losses as the graph has none: add terms with loss()");
    }
    const refs = losses.map((l) => `${l.name}.loss` as R);
    const extraRefs = options.extra ?? [];
    const out = this.run([...refs, ...extraRefs], feeds, options);
    const terms: Record<string, Tensor> = {};
    let total: Scalar = tf.scalar(0);
    for (const l of losses) {
      const t = out[`${l.name}.loss` as R];
      terms[l.name] = t;
      if (l.weight !== 0) total = tf.add(total, tf.mul(tf.mean(t), l.weight!));
    }
    const extra: Record<string, Tensor> = {};
    for (const r of extraRefs) extra[r] = out[r];
    return { total, terms, extra };
  }

  /**
   * One training step: forward, loss, gradients and the optimiser update in one `tf.tidy`; on
   * webgpu its GPU work goes to the queue in one submission at the end (`inOneSubmission`).
   *
   * @param feeds Graph inputs (the batch).
   * @param step The step number (keys the random streams).
   * @param options `keep`: refs whose values to return (e.g. sampled timesteps).
   * @returns The total and per-term batch means, as scalars the caller reads asynchronously.
   */
  trainStep(
    feeds: Partial<Record<R, Tensor>>,
    step: number,
    options: { keep?: readonly R[] } = {},
  ): StepResult {
    if (this.#trainable.length === 0) {
      throw new TypeError("Cannot train as the graph has no trainable parameters");
    }
    return inOneSubmission(() => this.#step(feeds, step, options.keep ?? []));
  }

  #step(feeds: Partial<Record<R, Tensor>>, step: number, keep: readonly R[]): StepResult {
    return tf.tidy(() => {
      let terms: Record<string, Scalar> = {};
      let kept: Record<string, Tensor> = {};
      const { value, grads } = tf.variableGrads(() => {
        const r = this.losses(feeds, { training: true, step, extra: keep });
        // variableGrads disposes everything but its result: keep what the caller reads.
        terms = Object.fromEntries(
          Object.entries(r.terms).map(([k, t]) => [k, tf.keep(tf.mean(t) as Scalar)]),
        );
        kept = Object.fromEntries(Object.entries(r.extra).map(([k, t]) => [k, tf.keep(t)]));
        return r.total;
      }, this.#trainable);
      // A parameter with no path to the total (e.g. behind a loss term of weight 0) gets a zero
      // gradient: Adam still advances its moments, as torch does for a zero grad.
      let g = this.#trainable.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const clip = this.optimizerSpec.clipNorm ?? 0;
      if (clip > 0) g = clipByGlobalNorm(g, clip);
      this.optimizer.apply(g);
      return { total: value, terms, kept };
    });
  }

  /** Releases every variable and the optimiser state. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.optimizer.dispose();
  }
}

function clipByGlobalNorm(grads: Tensor[], maxNorm: number): Tensor[] {
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12)));
  return grads.map((g) => tf.mul(g, scale));
}

/**
 * Compiles a validated graph: creates its variables (seeded) and its optimiser.
 *
 * @param graph The graph from `graph(...).build()`.
 * @param options Seed and optimiser.
 * @returns The compiled graph with its plans.
 *
 * @example Train a linear regression node for one step
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { compile, defineLoss, defineNode, graph } from "../../mod.ts";
 * const lin = defineNode({
 *   name: "linear",
 *   inputs: { x: "B,D" },
 *   outputs: { y: "B,1" },
 *   params: ({ dim }) => ({ w: { shape: [dim("D"), 1], init: "zeros" } }),
 *   fn: ({ x }, { params }) => ({ y: tf.matMul(x, params.w!) }),
 * });
 * const mse = defineLoss({
 *   name: "mse",
 *   inputs: { a: "B,1", b: "B,1" },
 *   fn: ({ a, b }) => tf.squaredDifference(a, b).mean(-1),
 * });
 * const g = graph({ x: "B,2", y: "B,1" })
 *   .add("f", lin, { x: "x" })
 *   .loss("mse", mse, { a: "f.y", b: "y" })
 *   .build();
 * const c = compile(g, { optimizer: { kind: "adam", lr: 0.1 } });
 * const r = c.trainStep({ x: tf.ones([4, 2]), y: tf.ones([4, 1]) }, 0);
 * r.total.shape; // []
 * ```
 */
export function compile<R extends string>(
  graph: Graph<R>,
  options: CompileOptions = {},
): Compiled<R> {
  return new Compiled(graph, options);
}
