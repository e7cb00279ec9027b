/**
 * IDX files (LeCun's MNIST format, also used by Fashion-MNIST), optionally gzipped.
 *
 * Layout (http://yann.lecun.com/exdb/mnist/): a 4-byte magic `0x00 0x00 <type> <ndims>`, then
 * `ndims` big-endian uint32 dimension sizes, then the values in row-major order, big-endian.
 * Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 *
 * @module
 */

import type { ImageSplit } from "./types.ts";

/** The element types an IDX file can hold. */
export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array an IDX file decodes into. */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** A decoded IDX file. */
export interface IdxArray {
  /** The element type. */
  dtype: IdxDtype;
  /** The dimension sizes, outermost first. */
  dims: number[];
  /** The values, row-major, in native byte order. */
  data: IdxData;
}

/** Options for {@linkcode parseIdx}. */
export interface ParseIdxOptions {
  /**
   * The name used in error messages (usually the file path).
   * @default "IDX data"
   */
  name?: string;
}

const CODES: Record<number, IdxDtype> = {
  0x08: "uint8",
  0x09: "int8",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

function dtypeCode(dtype: IdxDtype): number {
  switch (dtype) {
    case "uint8":
      return 0x08;
    case "int8":
      return 0x09;
    case "int16":
      return 0x0b;
    case "int32":
      return 0x0c;
    case "float32":
      return 0x0d;
    case "float64":
      return 0x0e;
    default: {
      const never: never = dtype;
      throw new TypeError(`Cannot encode IDX dtype ${never}`);
    }
  }
}

function byteSize(dtype: IdxDtype): number {
  switch (dtype) {
    case "uint8":
    case "int8":
      return 1;
    case "int16":
      return 2;
    case "int32":
    case "float32":
      return 4;
    case "float64":
      return 8;
    default: {
      const never: never = dtype;
      throw new TypeError(`Unknown IDX dtype ${never}`);
    }
  }
}

/**
 * Decodes the bytes of an (uncompressed) IDX file, validating the magic number and that the
 * byte count matches the header exactly.
 *
 * @param bytes The file contents.
 * @param options Error-message naming.
 * @returns The decoded array.
 *
 * @example Decode a 2×2 uint8 matrix
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]);
 * const idx = parseIdx(bytes);
 * console.log(idx.dims, [...idx.data]); // [2, 2] [1, 2, 3, 4]
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const name = options.name ?? "IDX data";
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new TypeError(
      `Cannot parse ${name} as IDX: it must start with two zero bytes, found ` +
        `${hex(bytes.subarray(0, 4))}; is it an IDX file (gzipped files start with 1f 8b)?`,
    );
  }
  const dtype = CODES[bytes[2] as number];
  if (dtype === undefined) {
    throw new TypeError(
      `Cannot parse ${name} as IDX: unknown type code 0x${hex(bytes.subarray(2, 3))} ` +
        `(expected one of 08, 09, 0b, 0c, 0d, 0e)`,
    );
  }
  const ndims = bytes[3] as number;
  const headerSize = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerSize) {
    throw new TypeError(
      `Cannot parse ${name} as IDX: header declares ${ndims} dimensions but the file holds ` +
        `${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const size = byteSize(dtype);
  const expected = headerSize + count * size;
  if (bytes.length !== expected) {
    throw new TypeError(
      `Cannot parse ${name} as IDX: its header declares ${dtype} [${dims.join(", ")}] ` +
        `(${expected} bytes) but it holds ${bytes.length} bytes; the file is truncated or corrupt`,
    );
  }
  return { dtype, dims, data: decodeValues(view, headerSize, count, dtype) };
}

function decodeValues(view: DataView, start: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer, view.byteOffset + start, count).slice();
    case "int8":
      return new Int8Array(view.buffer, view.byteOffset + start, count).slice();
    case "int16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(start + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, false);
      return out;
    }
    default: {
      const never: never = dtype;
      throw new TypeError(`Unknown IDX dtype ${never}`);
    }
  }
}

/**
 * Encodes an array as IDX bytes (uncompressed). Inverse of {@linkcode parseIdx}.
 *
 * @param array The dtype, dims and row-major values.
 * @returns The file contents.
 *
 * @example Round trip
 * ```ts
 * import { encodeIdx, parseIdx } from "./idx.ts";
 * const bytes = encodeIdx({ dtype: "uint8", dims: [3], data: new Uint8Array([7, 8, 9]) });
 * console.log([...parseIdx(bytes).data]); // [7, 8, 9]
 * ```
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dtype, dims, data } = array;
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims.length === 0 || dims.length > 255 || count !== data.length) {
    throw new TypeError(
      `Cannot encode IDX as dims [${dims.join(", ")}] hold ${count} values but data has ` +
        `${data.length} (and 1 to 255 dims are allowed)`,
    );
  }
  const size = byteSize(dtype);
  const headerSize = 4 + 4 * dims.length;
  const bytes = new Uint8Array(headerSize + count * size);
  const view = new DataView(bytes.buffer);
  bytes[2] = dtypeCode(dtype);
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const v = data[i] as number;
    const at = headerSize + i * size;
    switch (dtype) {
      case "uint8":
        view.setUint8(at, v);
        break;
      case "int8":
        view.setInt8(at, v);
        break;
      case "int16":
        view.setInt16(at, v, false);
        break;
      case "int32":
        view.setInt32(at, v, false);
        break;
      case "float32":
        view.setFloat32(at, v, false);
        break;
      case "float64":
        view.setFloat64(at, v, false);
        break;
      default: {
        const never: never = dtype;
        throw new TypeError(`Unknown IDX dtype ${never}`);
      }
    }
  }
  return bytes;
}

/**
 * Reads an IDX file from disk, gunzipping it first when it starts with the gzip magic `1f 8b`.
 *
 * @param path The file path (`*.gz` or plain).
 * @returns The decoded array.
 *
 * @example Read the Fashion-MNIST test labels (needs `dataset-fashion-mnist`)
 * ```ts ignore
 * import { readIdxFile } from "./idx.ts";
 * const labels = await readIdxFile("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
 * console.log(labels.dims); // [10000]
 * ```
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const raw = await Deno.readFile(path);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? await gunzip(raw) : raw;
  return parseIdx(bytes, { name: path });
}

/**
 * Decompresses gzip bytes (with the web-standard `DecompressionStream`).
 *
 * @param bytes The gzip stream.
 * @returns The decompressed bytes.
 *
 * @example Round trip through CompressionStream
 * ```ts
 * import { gunzip } from "./idx.ts";
 * const gz = new Uint8Array(
 *   await new Response(
 *     new Blob([new Uint8Array([1, 2, 3])]).stream().pipeThrough(new CompressionStream("gzip")),
 *   ).arrayBuffer(),
 * );
 * console.log([...await gunzip(gz)]); // [1, 2, 3]
 * ```
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Combines an IDX image file (uint8 `[n, H, W]`) and an IDX label file (uint8 `[n]`) into a
 * split, checking their types, sizes and label range.
 *
 * @param images The decoded image file.
 * @param labels The decoded label file.
 * @param options The label range to check, and names for error messages.
 * @returns The split, images as `[n, H, W, 1]` bytes.
 *
 * @example Two 1×1 images
 * ```ts
 * import { idxToSplit } from "./idx.ts";
 * const split = idxToSplit(
 *   { dtype: "uint8", dims: [2, 1, 1], data: new Uint8Array([0, 255]) },
 *   { dtype: "uint8", dims: [2], data: new Uint8Array([3, 4]) },
 * );
 * console.log(split.n); // 2
 * ```
 */
export function idxToSplit(
  images: IdxArray,
  labels: IdxArray,
  options: IdxToSplitOptions = {},
): ImageSplit {
  const numClasses = options.numClasses ?? 10;
  const what = options.name ?? "IDX images and labels";
  if (images.dtype !== "uint8" || images.dims.length !== 3) {
    throw new TypeError(
      `Cannot use ${what} as the image file must be uint8 [n, H, W] (magic 0x00000803): ` +
        `current value is ${images.dtype} [${images.dims.join(", ")}]`,
    );
  }
  if (labels.dtype !== "uint8" || labels.dims.length !== 1) {
    throw new TypeError(
      `Cannot use ${what} as the label file must be uint8 [n] (magic 0x00000801): ` +
        `current value is ${labels.dtype} [${labels.dims.join(", ")}]`,
    );
  }
  const n = images.dims[0] as number;
  if (labels.dims[0] !== n) {
    throw new TypeError(
      `Cannot use ${what} as the image file holds ${n} images but the label file ` +
        `${labels.dims[0]} labels`,
    );
  }
  const labelBytes = labels.data as Uint8Array;
  const bad = labelBytes.findIndex((l) => l >= numClasses);
  if (bad >= 0) {
    throw new RangeError(
      `Cannot use ${what} as label ${bad} is ${labelBytes[bad]}, outside [0, ${numClasses})`,
    );
  }
  return { images: images.data as Uint8Array, labels: labelBytes, n };
}

/** Options for {@linkcode idxToSplit}. */
export interface IdxToSplitOptions {
  /**
   * Labels must lie in [0, numClasses).
   * @default 10
   */
  numClasses?: number;
  /**
   * The name used in error messages.
   * @default "IDX images and labels"
   */
  name?: string;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
