#!/usr/bin/python3
"""PyTorch (CPU) reference for elbo's benchmark workloads A, B and C.

The same definitions as bench/workloads.ts and /work/shared/bench/README.md:
  A  DDPM training step of the eps-prediction MLP (784-1024x3-784, SiLU, sinusoidal time
     embedding through a 2-layer MLP added to every hidden pre-activation), batch 128, Adam 2e-4;
  B  VAE training step (784-512-(32+32) / 32-512-784, Bernoulli likelihood, analytic KL),
     batch 128, Adam 1e-3;
  C  forward pass of A's network on a batch of 1000, reduced to per-sample squared error.

Timing: warm-up steps, then windows of steps; every step ends with .item() (a host read, like
`await loss.data()` in tfjs); the run reports the median window.

On --device cuda the same eager code runs on the GPU (every step still ends with .item(), which
waits for the GPU); the threads then only drive the Python side.

Usage (Debian's python3-torch with libopenblas0-openmp; the pyenv python3 has no torch):
  /usr/bin/python3 bench/torch_reference.py --workload A --threads 2
  /usr/bin/python3 bench/torch_reference.py --workload all --json-file results.jsonl
  python3 bench/torch_reference.py --workload all --device cuda
Prints one JSON line per workload:
  {"workload": "A", "impl": "torch", "threads": 2, "samplesPerSec": ...}
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

D, H, TE, T = 784, 1024, 128, 1000  # pixels, hidden width, time-embedding size, diffusion steps
VAE_H, VAE_Z = 512, 32
TRAIN_BATCH, EVAL_BATCH = 128, 1000

# Matmul multiply-adds per sample (forward; training adds weight grads and input grads except
# for layers whose input is data or the fixed embedding). Same numbers as bench/workloads.ts.
MACS_A_FWD = TE * H + H * H + D * H + 2 * H * H + H * D
MACS_A_TRAIN = 3 * MACS_A_FWD - (D * H + TE * H)
MACS_B_FWD = D * VAE_H + VAE_H * 2 * VAE_Z + VAE_Z * VAE_H + VAE_H * D
MACS_B_TRAIN = 3 * MACS_B_FWD - D * VAE_H


class EpsMLP(nn.Module):
    """eps_hat(x_t, t): SiLU MLP with a sinusoidal time embedding (Ho et al. 2020)."""

    def __init__(self):
        super().__init__()
        self.e1, self.e2 = nn.Linear(TE, H), nn.Linear(H, H)
        self.l1, self.l2, self.l3 = nn.Linear(D, H), nn.Linear(H, H), nn.Linear(H, H)
        self.lo = nn.Linear(H, D)
        half = TE // 2
        self.register_buffer(
            "freqs", torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half))

    def forward(self, x, t):  # x [B, D], t float [B] in 1..T
        arg = t[:, None] * self.freqs[None, :]  # [B, 64]
        emb = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)  # [B, 128]
        temb = self.e2(F.silu(self.e1(emb)))  # [B, H]
        h = F.silu(self.l1(x) + temb)
        h = F.silu(self.l2(h) + temb)
        h = F.silu(self.l3(h) + temb)
        return self.lo(h)  # [B, D]


class VAE(nn.Module):
    """Bernoulli VAE; loss() is the negative ELBO per sample (Kingma & Welling 2014, Eq. 10)."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(D, VAE_H), nn.Linear(VAE_H, 2 * VAE_Z)
        self.l3, self.l4 = nn.Linear(VAE_Z, VAE_H), nn.Linear(VAE_H, D)

    def loss(self, x):
        st = self.l2(F.relu(self.l1(x)))
        mu, logvar = st[:, :VAE_Z], st[:, VAE_Z:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.l4(F.relu(self.l3(z)))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return (rec + kl).mean()


def schedule(device):
    """sqrt(abar_t), sqrt(1 - abar_t) of the linear beta schedule, computed in float64."""
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    return abar.sqrt().float().to(device), (1 - abar).sqrt().float().to(device)


def build(workload, device="cpu"):
    """Returns (step, items per step, GFLOP per step, parameter count, unit)."""
    sqrt_abar, sqrt_1m = schedule(device)
    if workload in ("A", "C"):
        train = workload == "A"
        batch = TRAIN_BATCH if train else EVAL_BATCH
        net = (EpsMLP() if train else EpsMLP().eval()).to(device)
        x0 = torch.rand(batch, D, device=device) * 2 - 1
        opt = torch.optim.Adam(net.parameters(), lr=2e-4) if train else None

        def step():
            t = torch.randint(0, T, (batch,), device=device)
            eps = torch.randn(batch, D, device=device)
            xt = sqrt_abar[t][:, None] * x0 + sqrt_1m[t][:, None] * eps
            if not train:
                with torch.no_grad():
                    sse = (net(xt, (t + 1).float()) - eps).pow(2).sum(1)  # [B]
                    return sse[0].item()
            loss = F.mse_loss(net(xt, (t + 1).float()), eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()

        macs = MACS_A_TRAIN if train else MACS_A_FWD
        unit = "train samples/s" if train else "forward samples/s"
    elif workload == "B":
        batch = TRAIN_BATCH
        net = VAE().to(device)
        x = (torch.rand(batch, D, device=device) > 0.5).float()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            loss = net.loss(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()

        macs, unit = MACS_B_TRAIN, "train samples/s"
    else:
        raise SystemExit(f"unknown workload {workload!r}: use A, B, C or all")
    params = sum(p.numel() for p in net.parameters())
    return step, batch, 2 * macs * batch / 1e9, params, unit


DEFAULT_STEPS = {"A": (5, 40), "B": (10, 150), "C": (3, 15)}  # (warm-up, steps per window)


def run(workload, threads, windows, steps, warmup, device="cpu"):
    step, items, gflop, params, unit = build(workload, device)
    dw, ds = DEFAULT_STEPS[workload]
    warmup = dw if warmup is None else warmup
    steps = ds if steps is None else steps
    t_start = time.perf_counter()
    for _ in range(warmup):
        step()
    rates, last = [], []
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(steps):
            v = step()
        rates.append(items * steps / (time.perf_counter() - t0))
        last.append(round(v, 4))
    med = statistics.median(rates)
    return {
        "workload": workload,
        "impl": "torch",
        "threads": torch.get_num_threads(),
        "device": device if device == "cpu" else torch.cuda.get_device_name(device),
        "samplesPerSec": round(med, 1),
        "min": round(min(rates)),
        "max": round(max(rates)),
        "rates": [round(r) for r in rates],
        "achievedGflops": round(gflop * med / items, 1),
        "unit": unit,
        "params": params,
        "gflopPerStep": round(gflop, 4),
        "lastValues": last,
        "warmup": warmup,
        "stepsPerWindow": steps,
        "windows": windows,
        "torch": torch.__version__,
        "wallS": round(time.perf_counter() - t_start, 1),
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", default="A", help="A, B, C or all")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--steps", type=int, default=None, help="steps per window")
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-file", default=None, help="also append the JSON lines to this file")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where torch runs")
    a = p.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            "Cannot run on --device cuda as torch.cuda.is_available() is False: "
            f"this torch {torch.__version__} sees no CUDA GPU; use --device cpu")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    names = ["A", "B", "C"] if a.workload.lower() == "all" else [a.workload.upper()]
    for name in names:
        line = json.dumps(run(name, a.threads, a.windows, a.steps, a.warmup, a.device))
        print(line, flush=True)
        if a.json_file:
            with open(a.json_file, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
