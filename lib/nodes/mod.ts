/**
 * The built-in node library: thin, documented wrappers over `lib/vae` and `lib/diffusion`, and
 * the networks they need.
 *
 * @module
 */

export * from "./layers.ts";
export * from "./vae.ts";
export * from "./diffusion.ts";
export * from "./unet.ts";
export * from "./classifier.ts";
export * from "./autoencoders.ts";
export * from "./vq.ts";
export * from "./hvae.ts";
