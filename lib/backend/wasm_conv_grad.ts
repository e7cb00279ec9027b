/**
 * Fast conv2d gradients on wasm.
 *
 * tfjs-wasm 4.22 has no `Conv2DBackpropFilter` (tensorflow/tfjs#8474: training any conv net
 * throws), and its `Conv2DBackpropInput` is a plain loop, several times slower than a forward
 * conv (ecosystem.md §1). Both are registered here, built on the XNNPACK kernels wasm does have.
 * NHWC, dilation 1, any stride and padding (`same`, `valid`, explicit).
 *
 * Notation: x [N, H, W, Ci], filter w [kh, kw, Ci, Co], dy [N, Ho, Wo, Co], stride (sh, sw),
 * padding (top, left); output pixel (ho, wo) reads input pixel (ho·sh + i − top, wo·sw + j − left)
 * through tap (i, j).
 *
 * - **Filter gradient.** dW[i, j] = Σ_{n,ho,wo} x[n, ho·sh + i − top, wo·sw + j − left]ᵀ dy[n, ho, wo],
 *   a [Ci, Co] matrix per tap. x is transposed once to [Ci, N, H, W]; for each tap the shifted
 *   (strided) view it reads is copied into colT [Ci, M] (M = N·Ho·Wo; zeros where the tap reads
 *   padding), and one plain XNNPACK matmul colT [Ci, M] · dy [M, Co] gives dW[i, j]. dy is the
 *   matmul's right operand in every tap, so XNNPACK packs it once. (Measured alternatives on
 *   tfjs-wasm: dyᵀ · col repacks col per tap, 2× slower; one batched matmul over all taps with a
 *   broadcast operand, 10× slower.)
 * - **Input gradient.** dx is a transposed convolution; split by stride phase it is an ordinary
 *   one ("sub-pixel convolution"). Along an axis with stride s and padding `pad`, the inputs
 *   h = s·a + p (phase p ∈ [0, s)) get dx[s·a + p] = Σ_d dy[a + d] · w[p + pad − s·d], d over the
 *   offsets that keep the tap inside the kernel. So one XNNPACK Conv2D (stride 1) of dy with a
 *   phase filter f [K'h, K'w, Co, sh·sw·Ci] (w regrouped by phase and tap; zeros where a phase has
 *   fewer taps) computes every phase at once, and a scatter puts phase (p, q) of pixel (a, b) at
 *   (a·sh + p, b·sw + q). With stride 1 there is one phase and f is the flipped filter. Cost: the
 *   forward conv's multiply-adds times (K'h·K'w·sh·sw) / (kh·kw), 1 for stride 1, 16/9 for a
 *   3×3 stride-2 conv; tfjs-wasm's own kernel is a plain loop, 6–17× slower than the forward conv.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { kernelScope, sizeOf } from "./wasm_kernel_util.ts";

/** A conv2d gradient kernel's geometry, from tfjs's `computeConv2DInfo`. */
interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/** Read and check the conv attributes (NHWC, dilation 1) shared by both gradient kernels. */
function geometry(
  kernelName: string,
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap | undefined,
): ConvGeometry {
  const a = attrs ?? {};
  const dataFormat = a["dataFormat"] ?? "NHWC";
  if (dataFormat !== "NHWC") {
    throw new TypeError(
      `Cannot run ${kernelName} on wasm as 'dataFormat' must be "NHWC": current value is ` +
        `"${dataFormat}"; transpose the input to channels-last`,
    );
  }
  const dilations = a["dilations"] ?? 1;
  if (!(dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1)))) {
    throw new RangeError(
      `Cannot run ${kernelName} on wasm as 'dilations' must be 1: current value is ${dilations}`,
    );
  }
  type Args = Parameters<typeof tf.backend_util.computeConv2DInfo>;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as Args[0],
    filterShape as Args[1],
    a["strides"] as Args[2],
    1,
    a["pad"] as Args[4], // "same" | "valid" | number | explicit [[0, 0], [t, b], [l, r], [0, 0]]
    a["dimRoundingMode"] as Args[5],
    false,
    "channelsLast",
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    ho: info.outHeight,
    wo: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** The whole wasm heap as float32, and the float offset of a tensor in it. */
function heapF32(backend: BackendWasm, t: tf.TensorInfo): { heap: Float32Array; at: number } {
  const view = backend.typedArrayFromHeap(t);
  return { heap: new Float32Array(view.buffer), at: backend.getMemoryOffset(t.dataId) / 4 };
}

/**
 * Copy the shifted, strided view of x that tap (i, j) reads into colT [Ci, M], reading from
 * xT = x transposed to [Ci, N, H, W] (zero where the tap reads padding). With stride 1 each
 * (channel, image, output row) is one contiguous run, copied with `copyWithin` on the heap.
 */
function gatherTapT(
  backend: BackendWasm,
  g: ConvGeometry,
  xT: tf.TensorInfo,
  colT: tf.TensorInfo,
  i: number,
  j: number,
): void {
  const { heap, at: xAt } = heapF32(backend, xT);
  const colAt = heapF32(backend, colT).at;
  const { n, h, w, ci, ho, wo, sh, sw, top, left } = g;
  const m = n * ho * wo;
  heap.fill(0, colAt, colAt + ci * m);
  // output columns whose input column wo·sw + j − left lies inside [0, w)
  const wo0 = Math.max(0, Math.ceil((left - j) / sw));
  const wo1 = Math.min(wo - 1, Math.floor((w - 1 + left - j) / sw));
  if (wo1 < wo0) return;
  const run = wo1 - wo0 + 1;
  for (let c = 0; c < ci; c++) {
    for (let b = 0; b < n; b++) {
      for (let oh = 0; oh < ho; oh++) {
        const ih = oh * sh + i - top;
        if (ih < 0 || ih >= h) continue;
        const dst = colAt + c * m + (b * ho + oh) * wo + wo0; // colT[c, b, oh, wo0]
        const src = xAt + ((c * n + b) * h + ih) * w + wo0 * sw + j - left; // xT[c, b, ih, ·]
        if (sw === 1) {
          heap.copyWithin(dst, src, src + run);
        } else {
          for (let k = 0; k < run; k++) heap[dst + k] = heap[src + k * sw]!;
        }
      }
    }
  }
}

/** `Conv2DBackpropFilter`: inputs {x, dy}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape}. */
function conv2DBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = args.attrs?.["filterShape"] as number[];
  const g = geometry("Conv2DBackpropFilter", x.shape, filterShape, args.attrs);
  const { ci, co, kh, kw } = g;
  const m = g.n * g.ho * g.wo;
  const out = backend.makeOutput([kh, kw, ci, co], "float32"); // [kh, kw, Ci, Co]
  if (m === 0 || ci === 0 || co === 0) {
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const plain = { transposeA: false, transposeB: false };
  // Both scopes return `out`, which they did not make: every intermediate is freed.
  return kernelScope(backend, ({ run }) => {
    const xT = run("Transpose", { x }, { perm: [3, 0, 1, 2] }); // [Ci, N, H, W]
    const dy2 = run("Reshape", { x: dy }, { shape: [m, co] }); // [M, Co], packed once by XNNPACK
    for (let t = 0; t < kh * kw; t++) {
      kernelScope(backend, (tap) => {
        const colT = tap.track(backend.makeOutput([ci, m], "float32")); // [Ci, M]
        gatherTapT(backend, g, xT, colT, Math.floor(t / kw), t % kw);
        const gt = tap.run("BatchMatMul", { a: colT, b: dy2 }, plain); // dW[i, j] [Ci, Co]
        const { heap, at } = heapF32(backend, gt);
        heap.copyWithin(heapF32(backend, out).at + t * ci * co, at, at + ci * co);
        return out;
      });
    }
    return out;
  });
}

/** How one spatial axis of dx splits into stride phases (see the module doc). */
interface PhaseAxis {
  /** Offsets d of dy rows that feed a phase: dx[s·a + p] = Σ_d dy[a + d] · w[p + pad − s·d]. */
  dMin: number;
  /** Largest such offset. */
  dMax: number;
  /** Rows per phase: ceil(len / s). */
  rows: number;
}

/** Phase geometry of one axis: stride `s`, kernel `k`, padding before `pad`, input length `len`. */
function phaseAxis(s: number, k: number, pad: number, len: number): PhaseAxis {
  let dMin = Infinity, dMax = -Infinity;
  for (let p = 0; p < s; p++) {
    dMin = Math.min(dMin, Math.ceil((p + pad - k + 1) / s));
    dMax = Math.max(dMax, Math.floor((p + pad) / s));
  }
  return { dMin, dMax, rows: Math.ceil(len / s) };
}

/**
 * The phase filter f [K'h, K'w, Co, sh·sw·Ci]: output channel (ph·sw + pw)·Ci + c of tap (u, v)
 * holds w[ph + top − sh·(u + dMin), pw + left − sw·(v + dMin), c, ·], or 0 outside the kernel.
 */
function phaseFilter(
  backend: BackendWasm,
  g: ConvGeometry,
  filter: tf.TensorInfo,
  ph: PhaseAxis,
  pw: PhaseAxis,
): tf.TensorInfo {
  const { ci, co, kh, kw, sh, sw, top, left } = g;
  const kh2 = ph.dMax - ph.dMin + 1, kw2 = pw.dMax - pw.dMin + 1, depth = sh * sw * ci;
  const f = backend.makeOutput([kh2, kw2, co, depth], "float32");
  const fv = backend.typedArrayFromHeap(f) as Float32Array; // after makeOutput: the heap may grow
  const wv = backend.typedArrayFromHeap(filter) as Float32Array;
  fv.fill(0);
  for (let u = 0; u < kh2; u++) {
    for (let v = 0; v < kw2; v++) {
      for (let a = 0; a < sh; a++) {
        const i = a + top - sh * (u + ph.dMin);
        if (i < 0 || i >= kh) continue;
        for (let b = 0; b < sw; b++) {
          const j = b + left - sw * (v + pw.dMin);
          if (j < 0 || j >= kw) continue;
          const src = (i * kw + j) * ci * co, dst = (u * kw2 + v) * co * depth + (a * sw + b) * ci;
          for (let c = 0; c < ci; c++) {
            for (let o = 0; o < co; o++) fv[dst + o * depth + c] = wv[src + c * co + o]!;
          }
        }
      }
    }
  }
  return f;
}

/** Scatter the phases y [N, A, B, sh·sw·Ci] into dx [N, H, W, Ci]: dx[n, a·sh + p, b·sw + q] = y[n, a, b, p·sw + q]. */
function interleave(backend: BackendWasm, g: ConvGeometry, y: tf.TensorInfo): tf.TensorInfo {
  const { n, h, w, ci, sh, sw } = g;
  const [, rows, cols, depth] = y.shape as [number, number, number, number];
  const dx = backend.makeOutput([n, h, w, ci], "float32"); // [N, H, W, Ci]
  const { heap, at: yAt } = heapF32(backend, y);
  const dxAt = heapF32(backend, dx).at;
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < rows; a++) {
      for (let p = 0; p < sh && a * sh + p < h; p++) {
        for (let c = 0; c < cols; c++) {
          const src = yAt + ((b * rows + a) * cols + c) * depth + p * sw * ci;
          const dst = dxAt + ((b * h + a * sh + p) * w + c * sw) * ci;
          const count = Math.min(sw, w - c * sw) * ci; // the q-phases of this column, contiguous
          if (count > 0) heap.copyWithin(dst, src, src + count);
        }
      }
    }
  }
  return dx;
}

/** `Conv2DBackpropInput`: inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode, inputShape}. */
function conv2DBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = args.attrs?.["inputShape"] as number[];
  const g = geometry("Conv2DBackpropInput", inputShape, filter.shape, args.attrs);
  const { n, h, w, ci, ho, wo, co, kh, kw, sh, sw, top, left } = g;
  if (sizeOf(inputShape) === 0 || sizeOf(dy.shape) === 0) {
    const out = backend.makeOutput([n, h, w, ci], "float32");
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const ph = phaseAxis(sh, kh, top, h), pw = phaseAxis(sw, kw, left, w);
  // phase rows a read dy rows a + dMin … a + dMax: frame dy into rows + K' − 1 rows
  const rows = window1d(ho, ph.rows + ph.dMax - ph.dMin, -ph.dMin);
  const cols = window1d(wo, pw.rows + pw.dMax - pw.dMin, -pw.dMin);
  return kernelScope(backend, ({ run, track }) => {
    let d = dy; // [N, Ho, Wo, Co]
    if (rows.begin > 0 || rows.end < ho || cols.begin > 0 || cols.end < wo) {
      d = run("Slice", { x: dy }, {
        begin: [0, rows.begin, cols.begin, 0],
        size: [n, rows.end - rows.begin, cols.end - cols.begin, co],
      });
    }
    const f = track(phaseFilter(backend, g, filter, ph, pw)); // [K'h, K'w, Co, sh·sw·Ci]
    const y = run("Conv2D", { x: d, filter: f }, {
      strides: [1, 1],
      pad: [[0, 0], [rows.front, rows.back], [cols.front, cols.back], [0, 0]],
      dataFormat: "NHWC",
      dilations: [1, 1],
    }); // [N, A, B, sh·sw·Ci]
    return sh === 1 && sw === 1 ? y : track(interleave(backend, g, y)); // [N, H, W, Ci]
  });
}

/** Which part [begin, end) of a length-`len` axis lands in a frame of `size`, shifted by `shift`. */
function window1d(
  len: number,
  size: number,
  shift: number,
): { begin: number; end: number; front: number; back: number } {
  const begin = Math.max(0, -shift);
  const end = Math.max(begin, Math.min(len, size - shift));
  const front = Math.max(0, shift);
  return { begin, end, front, back: size - front - (end - begin) };
}

/** Options of {@linkcode registerWasmConvGrad}. */
export interface WasmConvGradOptions {
  /**
   * Also replace tfjs-wasm's own (slow) `Conv2DBackpropInput`, which `tf.conv2dTranspose` uses too.
   * @default {true}
   */
  input?: boolean;
}

/**
 * Register `Conv2DBackpropFilter` (missing in tfjs-wasm) and a faster `Conv2DBackpropInput` for
 * the wasm backend. Idempotent.
 *
 * @param options Whether to replace the stock `Conv2DBackpropInput` too.
 * @returns The names of the kernels registered by this call.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmConvGrad } from "./wasm_conv_grad.ts";
 *
 * registerWasmConvGrad();
 * ```
 */
export function registerWasmConvGrad(options: WasmConvGradOptions = {}): string[] {
  const { input = true } = options;
  const mine: [string, (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo][] = [
    ["Conv2DBackpropFilter", conv2DBackpropFilter],
  ];
  if (input) mine.push(["Conv2DBackpropInput", conv2DBackpropInput]);
  const done: string[] = [];
  for (const [kernelName, kernelFunc] of mine) {
    const current = tf.getKernel(kernelName, "wasm");
    if (current?.kernelFunc === kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as tf.KernelFunc });
    done.push(kernelName);
  }
  return done;
}
