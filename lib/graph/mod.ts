/**
 * The experiment graph: define nodes and losses, wire them with a typed builder, validate at
 * build time, and compile into plans.
 *
 * @module
 */

export * from "./shape.ts";
export * from "./rng.ts";
export * from "./node.ts";
export * from "./graph.ts";
export * from "./compile.ts";
