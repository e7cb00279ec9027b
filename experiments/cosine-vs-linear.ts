/**
 * DDPM on MNIST, linear vs cosine β schedule (Ho et al. 2020; Nichol & Dhariwal 2021 §3.2):
 * ε-prediction, L_simple, fixed variances, T = 1000, the reference workload's ε-MLP. Reports the
 * test NLL in bits/dim from the full chain (the exact variational bound with the discretized
 * decoder, improved-diffusion's `calc_bpd_loop`), its rate/distortion split and per-t curve, and
 * DDPM / DDIM sample grids. The laptop preset is sized for a 2-core machine.
 *
 * @module
 */

import { ddpmExperiment } from "./common/ddpm.ts";

export default ddpmExperiment({
  name: "cosine-vs-linear",
  description:
    "DDPM ε-MLP on MNIST with L_simple: linear vs cosine β schedule; exact test NLL (bits/dim, full chain) and samples.",
  axes: { schedule: ["linear", "cosine"] },
});
