/**
 * Experiments: `defineExperiment` (what an experiment file exports), batch sources over the data
 * layer, and test-set evaluation of loss terms.
 *
 * @module
 */

export * from "./define.ts";
export * from "./batches.ts";
export * from "./evaluate.ts";
export * from "./diffusion.ts";
export * from "./judge.ts";
export * from "./toy.ts";
export * from "./iwae.ts";
