/**
 * Sample grids: tile a batch of images into one PNG.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { encode } from "fast-png";
import { type PixelRange, toBytes } from "../data/transforms.ts";
import type { Tensor } from "../data/types.ts";

/** Images as a typed array plus their shape: `[N, H, W, C]`, `[N, H, W]` or `[N, D]`. */
export interface ImageArray {
  /** Pixel values, row-major. */
  data: Uint8Array | Int32Array | Float32Array | Float64Array | readonly number[];
  /** The shape of `data`. */
  shape: readonly number[];
}

/** Options for {@linkcode imageGrid} and {@linkcode tileImages}. */
export interface ImageGridOptions {
  /**
   * Number of columns.
   * @default ⌈√N⌉, or N / rows when rows is given
   */
  cols?: number;
  /**
   * Number of rows.
   * @default ⌈N / cols⌉
   */
  rows?: number;
  /**
   * Pixels of padding between images and around the grid (before scaling).
   * @default 2
   */
  pad?: number;
  /**
   * Byte value of the padding (a mid gray separates both dark and light images).
   * @default 128
   */
  padValue?: number;
  /**
   * The range the values are in.
   * @default "[0,255]" for `Uint8Array` data and int32 tensors, "[-1,1]" for floats
   */
  range?: PixelRange;
  /**
   * Shape `[H, W, C]` of one image, for flat `[N, D]` input.
   * @default required for `[N, D]` input
   */
  imageShape?: readonly [number, number, number];
  /**
   * Integer upscaling factor (nearest neighbour), for small images.
   * @default 1
   */
  scale?: number;
}

/** A raw 8-bit image, row-major with interleaved channels. */
export interface RawImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Channels: 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: number;
  /** `[height, width, channels]` bytes. */
  data: Uint8Array;
}

/**
 * Tiles images into one grid image (row-major: image k goes to row ⌊k / cols⌋, column k mod cols;
 * unused cells stay padding).
 *
 * @param images Typed-array images and their shape.
 * @param options Layout, range and scaling.
 * @returns The grid as raw bytes.
 *
 * @example Two 1×1 gray images side by side
 * ```ts
 * import { tileImages } from "./image_grid.ts";
 * const g = tileImages({ data: new Uint8Array([0, 255]), shape: [2, 1, 1, 1] }, { pad: 0 });
 * console.log(g.width, g.height, [...g.data]); // 2 1 [0, 255]
 * ```
 */
export function tileImages(images: ImageArray, options: ImageGridOptions = {}): RawImage {
  const [n, h, w, c] = imageDims(images.shape, options.imageShape);
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new TypeError(
      `Cannot tile images with ${c} channels: use 1 (gray), 3 (RGB) or 4 (RGBA)`,
    );
  }
  const expected = n * h * w * c;
  if (images.data.length !== expected) {
    throw new TypeError(
      `Cannot tile images of shape [${images.shape.join(", ")}]: data has ` +
        `${images.data.length} values instead of ${expected}`,
    );
  }
  const { rows, cols } = gridSize(n, options);
  const pad = checkInt(options.pad ?? 2, "pad", 0);
  const scale = checkInt(options.scale ?? 1, "scale", 1);
  const padValue = checkInt(options.padValue ?? 128, "padValue", 0);
  if (padValue > 255) {
    throw new RangeError(
      `Cannot tile images as 'padValue' must be ≤ 255: current value is ${padValue}`,
    );
  }
  const range = options.range ?? (images.data instanceof Uint8Array ? "[0,255]" : "[-1,1]");
  const bytes = toBytes(images.data, range);
  const width = (cols * (w + pad) + pad) * scale;
  const height = (rows * (h + pad) + pad) * scale;
  const data = new Uint8Array(width * height * c).fill(padValue);
  if (c === 4) { for (let i = 3; i < data.length; i += 4) data[i] = 255; // opaque padding
   }
  for (let k = 0; k < n; k++) {
    const top = (Math.floor(k / cols) * (h + pad) + pad) * scale;
    const left = ((k % cols) * (w + pad) + pad) * scale;
    for (let y = 0; y < h * scale; y++) {
      const src = (k * h + Math.floor(y / scale)) * w;
      const dst = ((top + y) * width + left) * c;
      for (let x = 0; x < w * scale; x++) {
        const from = (src + Math.floor(x / scale)) * c;
        for (let ch = 0; ch < c; ch++) data[dst + x * c + ch] = bytes[from + ch] as number;
      }
    }
  }
  return { width, height, channels: c, data };
}

/**
 * Tiles a batch of images into a PNG (via `fast-png`). Tensors are read with `await data()`, so
 * this works on every backend, WebGPU included.
 *
 * @param images A tensor (`[N, H, W, C]`, `[N, H, W]` or `[N, D]` with `imageShape`) or a typed
 *   array with its shape. Uint8 data are bytes; float data are in [−1, 1] unless `range` says
 *   otherwise.
 * @param options Layout, range and scaling.
 * @returns The PNG file bytes (8-bit gray, RGB or RGBA).
 *
 * @example A grid of 16 MNIST digits
 * ```ts
 * import { imageGrid } from "./image_grid.ts";
 * import { loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("mnist", { limit: 16 });
 * const png = await imageGrid({ data: ds.train.images, shape: [16, 28, 28, 1] }, { scale: 2 });
 * console.log(png.subarray(1, 4)); // "PNG" as bytes: Uint8Array(3) [80, 78, 71]
 * ```
 */
export async function imageGrid(
  images: Tensor | ImageArray,
  options: ImageGridOptions = {},
): Promise<Uint8Array> {
  let array: ImageArray;
  let range = options.range;
  if (images instanceof tf.Tensor) {
    array = {
      data: await images.data() as Float32Array | Int32Array | Uint8Array,
      shape: images.shape,
    };
    if (range === undefined && images.dtype !== "float32") range = "[0,255]";
  } else {
    array = images;
  }
  const grid = tileImages(array, range === undefined ? options : { ...options, range });
  return encode({
    width: grid.width,
    height: grid.height,
    data: grid.data,
    channels: grid.channels,
    depth: 8,
  });
}

function imageDims(
  shape: readonly number[],
  imageShape: readonly [number, number, number] | undefined,
): [number, number, number, number] {
  const [n = 0, a, b, c] = shape;
  switch (shape.length) {
    case 4:
      return [n, a as number, b as number, c as number];
    case 3:
      return [n, a as number, b as number, 1];
    case 2: {
      if (imageShape === undefined) {
        throw new TypeError(
          `Cannot tile flat images of shape [${shape.join(", ")}] without 'imageShape' ` +
            `(e.g. { imageShape: [28, 28, 1] })`,
        );
      }
      const [h, w, ch] = imageShape;
      if (h * w * ch !== a) {
        throw new TypeError(
          `Cannot tile flat images of size ${a} as imageShape [${imageShape.join(", ")}] ` +
            `holds ${h * w * ch} values`,
        );
      }
      return [n, h, w, ch];
    }
    default:
      throw new TypeError(
        `Cannot tile images of shape [${shape.join(", ")}]: use [N, H, W, C], [N, H, W] ` +
          `or [N, D] with 'imageShape'`,
      );
  }
}

function gridSize(n: number, options: ImageGridOptions): { rows: number; cols: number } {
  if (n < 1) throw new RangeError(`Cannot tile an empty batch: give at least one image`);
  let { rows, cols } = options;
  if (cols === undefined) {
    cols = rows === undefined ? Math.ceil(Math.sqrt(n)) : Math.ceil(n / rows);
  }
  rows ??= Math.ceil(n / cols);
  checkInt(rows, "rows", 1);
  checkInt(cols, "cols", 1);
  if (rows * cols < n) {
    throw new RangeError(
      `Cannot tile ${n} images on a ${rows}×${cols} grid: raise 'rows' or 'cols' or pass fewer ` +
        `images`,
    );
  }
  return { rows, cols };
}

function checkInt(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot tile images as '${name}' must be an integer ≥ ${min}: current value is ${value}`,
    );
  }
  return value;
}
