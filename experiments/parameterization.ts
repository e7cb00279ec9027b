/**
 * What should the network predict? ε (Ho et al. 2020), x₀, or v = √ᾱ ε − √(1−ᾱ) x₀ (Salimans &
 * Ho 2022). The same DDPM (cosine schedule, L_simple on each parameterisation's own target, fixed
 * variances) trained three ways; compared by exact test NLL and samples.
 *
 * @module
 */

import { ddpmExperiment } from "./common/ddpm.ts";

export default ddpmExperiment({
  name: "parameterization",
  description:
    "DDPM on MNIST predicting ε vs x₀ vs v (cosine, L_simple); exact test NLL and samples.",
  config: { schedule: "cosine" },
  axes: { meanType: ["eps", "x0", "v"] },
});
