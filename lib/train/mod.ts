/**
 * Training: Adam with state we own, EMA weights, exact checkpoint snapshot/restore, and the
 * training loop with a NaN/Inf guard.
 *
 * @module
 */

export * from "./adam.ts";
export * from "./ema.ts";
export * from "./fit.ts";
