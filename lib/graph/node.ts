/**
 * `defineNode` and `defineLoss`: one runtime spec (named inputs and outputs with symbolic shapes)
 * from which the graph builder's static types are inferred.
 *
 * @module
 */

import type { RandomStream } from "./rng.ts";
import { parseShape, type SpecDim } from "./shape.ts";
import type { Json, Tensor, Variable } from "../types.ts";
export type { Json };

/** How a parameter is initialised. Limits and standard deviations are explicit numbers. */
export type ParamInit =
  | "zeros"
  | "ones"
  | "glorotUniform"
  | "lecunNormal"
  | { normal: number }
  | { uniform: number };

/** One parameter of a node: shape, initialiser, and whether the optimiser updates it. */
export interface ParamSpec {
  /** Concrete shape (no batch dimension). */
  shape: number[];
  /** Initialiser. */
  init: ParamInit;
  /** Non-trainable parameters are state (e.g. an EMA codebook). @default true */
  trainable?: boolean;
}

/** What `params` receives: a lookup of the node's bound symbols. */
export interface ParamContext {
  /** The size bound to a symbol of this node's specs; throws when it is unbound or the batch. */
  dim(name: string): number;
}

/** What a node's `fn` receives besides its inputs. */
export interface NodeContext {
  /** This node's trainable parameters, by the names `params` gave them. */
  params: Readonly<Record<string, Variable>>;
  /** This node's non-trainable parameters (state it may `assign` while training). */
  state: Readonly<Record<string, Variable>>;
  /** This node's random stream at the current step; use it for every random draw. */
  rng: RandomStream;
  /** True inside the training plan (dropout, label dropout, state updates). */
  training: boolean;
  /** The training step (or evaluation index). */
  step: number;
  /** The size bound to a symbol of this node's specs (the batch `B` included). */
  dim(name: string): number;
}

/** The tensors a node's `fn` receives: required inputs, plus optional ones when wired. */
export type NodeInputs<I extends string, OI extends string> =
  & { [K in I]: Tensor }
  & { [K in OI]?: Tensor };

/** The runtime spec of a node. */
export interface NodeSpec<I extends string, OI extends string, O extends string> {
  /** The node kind, e.g. `"mlpEncoder"`; shown in errors. */
  name: string;
  /** Required inputs and their shape specs, e.g. `{ x: "B,D" }`. */
  inputs: { readonly [K in I]: string };
  /** Inputs that may be left unwired (e.g. injected noise). */
  optionalInputs?: { readonly [K in OI]: string };
  /** Outputs and their shape specs, e.g. `{ mu: "B,Z" }`. */
  outputs: { readonly [K in O]: string };
  /** Sizes of symbols that only the node's options determine, e.g. `{ Z: 32 }`. */
  dims?: Readonly<Record<string, number>>;
  /** Outputs the graph must consume (the build fails otherwise). */
  mustConsume?: readonly NoInfer<O>[];
  /** Binds output-only symbols from the input bindings, e.g. `({ dim }) => ({ O: 2 * dim("D") })`. */
  outputDims?: (ctx: ParamContext) => Record<string, number>;
  /** The node's options, as JSON: part of the graph fingerprint that decides work sharing. */
  config?: Json;
  /** The node's parameters, given its bound symbols. */
  params?: (ctx: ParamContext) => Record<string, ParamSpec>;
  /** The computation. Synchronous: it runs inside `tf.tidy` and gradient tapes. */
  fn: (
    inputs: NodeInputs<NoInfer<I>, NoInfer<OI>>,
    ctx: NodeContext,
  ) => { [K in NoInfer<O>]: Tensor };
}

/** A defined node: its spec plus parsed shapes. Create with {@linkcode defineNode}. */
export interface Node<I extends string, OI extends string, O extends string> {
  /** `"loss"` for nodes made by {@linkcode defineLoss}. */
  readonly role: "node" | "loss";
  /** The spec it was defined from. */
  readonly spec: NodeSpec<I, OI, O>;
  /** Parsed input specs (required and optional). */
  readonly inputShapes: ReadonlyMap<string, SpecDim[]>;
  /** Parsed output specs. */
  readonly outputShapes: ReadonlyMap<string, SpecDim[]>;
}

/** Any node, with its type parameters erased. */
// deno-lint-ignore no-explicit-any
export type AnyNode = Node<any, any, any>;

function parseAll(kind: string, what: string, specs: Record<string, string>) {
  const out = new Map<string, SpecDim[]>();
  for (const [k, s] of Object.entries(specs)) {
    if (k.length === 0 || k.includes(".")) {
      throw new TypeError(
        `Cannot define node '${kind}' as ${what} name must be non-empty without '.': current value is "${k}"`,
      );
    }
    try {
      out.set(k, parseShape(s));
    } catch (e) {
      throw new TypeError(
        `Cannot define node '${kind}' as ${what} '${k}' has a bad shape spec: ${
          (e as Error).message
        }`,
      );
    }
  }
  return out;
}

/**
 * Defines a graph node from one runtime spec; the builder infers its wiring types from it.
 *
 * @param spec The node spec.
 * @returns The node, ready to `add` to a graph.
 *
 * @example A scaling node
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { defineNode } from "./node.ts";
 * const double = defineNode({
 *   name: "double",
 *   inputs: { x: "B,D" },
 *   outputs: { y: "B,D" },
 *   fn: ({ x }) => ({ y: tf.mul(x, 2) }),
 * });
 * double.spec.name; // "double"
 * ```
 */
export function defineNode<I extends string, O extends string, OI extends string = never>(
  spec: NodeSpec<I, OI, O>,
): Node<I, OI, O> {
  const inputs = parseAll(spec.name, "input", spec.inputs);
  for (const [k, s] of parseAll(spec.name, "optional input", spec.optionalInputs ?? {})) {
    if (inputs.has(k)) {
      throw new TypeError(
        `Cannot define node '${spec.name}' as input '${k}' is both required and optional`,
      );
    }
    inputs.set(k, s);
  }
  const outputs = parseAll(spec.name, "output", spec.outputs);
  for (const o of spec.mustConsume ?? []) {
    if (!outputs.has(o)) {
      throw new TypeError(
        `Cannot define node '${spec.name}' as mustConsume names unknown output: current value is "${o}"`,
      );
    }
  }
  return { role: "node", spec, inputShapes: inputs, outputShapes: outputs };
}

/** The spec of a loss: like a node's, but `fn` returns the per-example loss `[B]`. */
export interface LossSpec<I extends string, OI extends string> {
  /** The loss kind, e.g. `"bernoulliNll"`. */
  name: string;
  /** Required inputs and their shape specs. */
  inputs: { readonly [K in I]: string };
  /** Inputs that may be left unwired. */
  optionalInputs?: { readonly [K in OI]: string };
  /** Sizes of symbols that only the loss's options determine. */
  dims?: Readonly<Record<string, number>>;
  /** Binds further symbols from the input bindings. */
  outputDims?: (ctx: ParamContext) => Record<string, number>;
  /** The loss's options, as JSON (part of the graph fingerprint). */
  config?: Json;
  /** Parameters, if the loss has any (e.g. a learned scale). */
  params?: (ctx: ParamContext) => Record<string, ParamSpec>;
  /** Per-example loss, shape `[B]`, in nats (or the unit the loss documents). */
  fn: (inputs: NodeInputs<NoInfer<I>, NoInfer<OI>>, ctx: NodeContext) => Tensor;
}

/**
 * Defines a loss term: a node with one output `loss` of shape `[B]`. The framework reduces,
 * weights and logs it.
 *
 * @param spec The loss spec.
 * @returns A node whose only output is `loss`.
 *
 * @example A Huber loss on predicted noise, in a few lines
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { defineLoss } from "./node.ts";
 * const huberEps = defineLoss({
 *   name: "huberEps",
 *   inputs: { eps: "B,D", epsHat: "B,D" },
 *   fn: ({ eps, epsHat }) => tf.losses.huberLoss(eps, epsHat, undefined, 1, tf.Reduction.NONE).mean(-1), // [B]
 * });
 * huberEps.role; // "loss"
 * ```
 */
export function defineLoss<I extends string, OI extends string = never>(
  spec: LossSpec<I, OI>,
): Node<I, OI, "loss"> {
  const { fn, ...rest } = spec;
  const node = defineNode<I, "loss", OI>({
    ...rest,
    outputs: { loss: "B" },
    fn: (inputs, ctx) => ({ loss: fn(inputs, ctx) }),
  });
  return { ...node, role: "loss" };
}
