/**
 * Checkpoint files: atomic, checksummed, the last two kept.
 *
 * Files are `checkpoint/step-<9-digit step>.ckpt`. Binary layout (version 1; integers are
 * little-endian u32):
 *
 * | offset | size | content |
 * | --- | --- | --- |
 * | 0 | 8 | magic `ELBOCKPT` (ASCII) |
 * | 8 | 4 | format version, 1 |
 * | 12 | 4 | header length H |
 * | 16 | H | header, UTF-8 JSON: `{ step, state, dataBytes, tensors: [{ name, shape, offset, length }] }` |
 * | 16 + H | 0–3 | zero padding to a multiple of 4: the data start D |
 * | D | dataBytes | float32 little-endian tensor data, `offset` (bytes) relative to D, `length` in elements |
 * | D + dataBytes | 32 | sha256 of every byte before it |
 *
 * A file of the wrong length is reported as truncated, a wrong checksum as corrupted; both name
 * the file and the fix (delete it to resume from the previous checkpoint).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { canonicalJson } from "./identity.ts";
import { denoFs, type SweepFs, writeAtomic } from "./store.ts";
import type { Checkpoint, Json } from "./types.ts";

const MAGIC = "ELBOCKPT";
const VERSION = 1;
const PREFIX = 16;
const DIGEST = 32;

/**
 * A checkpoint file is truncated, corrupted or not a checkpoint.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./checkpoint.ts";
 * new CheckpointError("Cannot read checkpoint a.ckpt as it is truncated", "a.ckpt").path; // "a.ckpt"
 * ```
 */
export class CheckpointError extends Error {
  /** The checkpoint file. */
  readonly path: string;
  /**
   * Creates the error.
   *
   * @param message What is wrong and the fix.
   * @param path The checkpoint file.
   */
  constructor(message: string, path: string) {
    super(message);
    this.name = "CheckpointError";
    this.path = path;
  }
}

/**
 * Encodes a checkpoint in the documented binary layout.
 *
 * @param ck The checkpoint (tensor data lengths must match their shapes).
 * @returns The file's bytes, checksum included.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * const bytes = encodeCheckpoint({
 *   step: 3,
 *   tensors: { w: { shape: [2], data: new Float32Array([1, 2]) } },
 *   state: { rng: 7 },
 * });
 * decodeCheckpoint(bytes, "mem").tensors.w?.data; // Float32Array [1, 2]
 * ```
 */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  if (!Number.isInteger(ck.step) || ck.step < 0) {
    throw new RangeError(
      `Cannot save a checkpoint as its step must be a non-negative integer: current value is ${ck.step}`,
    );
  }
  canonicalJson(ck.state); // throws on non-finite numbers, which JSON would turn into null
  let offset = 0;
  const entries = Object.entries(ck.tensors).map(([name, t]) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!(t.data instanceof Float32Array) || t.data.length !== size) {
      throw new TypeError(
        `Cannot save tensor '${name}' as its data must be a Float32Array of ${size} values for shape [${t.shape}]: current length is ${
          (t.data as { length?: number }).length
        }`,
      );
    }
    const entry = { name, shape: t.shape, offset, length: size };
    offset += size * 4;
    return entry;
  });
  const header = new TextEncoder().encode(
    JSON.stringify({ step: ck.step, state: ck.state, dataBytes: offset, tensors: entries }),
  );
  const dataStart = align4(PREFIX + header.length);
  const bytes = new Uint8Array(dataStart + offset + DIGEST);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, PREFIX);
  for (const e of entries) {
    const data = ck.tensors[e.name]?.data ?? new Float32Array();
    bytes.set(littleEndianBytes(data), dataStart + e.offset);
  }
  const end = dataStart + offset;
  bytes.set(sha256(bytes.subarray(0, end)), end);
  return bytes;
}

/**
 * Decodes and verifies a checkpoint file's bytes.
 *
 * @param bytes The file's content.
 * @param path The file's path, for error messages.
 * @returns The checkpoint.
 *
 * @example A flipped byte is caught
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * const bytes = encodeCheckpoint({ step: 1, tensors: {}, state: null });
 * bytes[20] = bytes[20]! ^ 1;
 * try {
 *   decodeCheckpoint(bytes, "step-000000001.ckpt");
 * } catch (err) {
 *   (err as Error).message; // "Cannot read checkpoint step-000000001.ckpt as it is corrupted: …"
 * }
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  const fail = (why: string) =>
    new CheckpointError(`Cannot read checkpoint ${path} as it is ${why}`, path);
  if (bytes.length < PREFIX) {
    throw fail(`truncated: ${bytes.length} bytes, less than the ${PREFIX}-byte prefix`);
  }
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw fail("corrupted: it does not start with ELBOCKPT (not an elbo checkpoint)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw fail(`corrupted: unknown format version ${version}`);
  const headerLength = view.getUint32(12, true);
  if (PREFIX + headerLength > bytes.length) {
    throw fail(
      `truncated: the header needs ${PREFIX + headerLength} bytes, the file has ${bytes.length}`,
    );
  }
  let header: {
    step: number;
    state: Json;
    dataBytes: number;
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength)));
  } catch {
    throw fail("corrupted: its header is not valid JSON");
  }
  if (
    !Number.isInteger(header?.dataBytes) || !Number.isInteger(header.step) ||
    !Array.isArray(header.tensors)
  ) {
    throw fail("corrupted: its header lacks step, dataBytes or tensors");
  }
  const dataStart = align4(PREFIX + headerLength);
  const expected = dataStart + header.dataBytes + DIGEST;
  if (bytes.length < expected) {
    throw fail(`truncated: expected ${expected} bytes, found ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw fail(`corrupted: expected ${expected} bytes, found ${bytes.length}`);
  }
  const end = expected - DIGEST;
  if (!equalBytes(sha256(bytes.subarray(0, end)), bytes.subarray(end))) {
    throw fail("corrupted: its sha256 checksum does not match its content");
  }
  const tensors: Checkpoint["tensors"] = {};
  for (const t of header.tensors) {
    const start = dataStart + t.offset;
    tensors[t.name] = {
      shape: t.shape,
      data: float32FromLittleEndian(bytes.subarray(start, start + t.length * 4)),
    };
  }
  return { step: header.step, tensors, state: header.state };
}

/** A checkpoint file on disk. */
export interface CheckpointFile {
  /** Its step. */
  step: number;
  /** Its path. */
  path: string;
}

/**
 * The checkpoint files of a folder, newest (highest step) first.
 *
 * @param dir The `checkpoint/` folder.
 * @returns The files, or `[]` when the folder does not exist.
 *
 * @example
 * ```ts ignore
 * import { listCheckpoints } from "./checkpoint.ts";
 * await listCheckpoints("runs/demo/train-0123456789/checkpoint");
 * ```
 */
export async function listCheckpoints(dir: string): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^step-(\d{9})\.ckpt$/.exec(e.name);
      if (e.isFile && m?.[1] !== undefined) {
        files.push({ step: Number(m[1]), path: join(dir, e.name) });
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return files.sort((a, b) => b.step - a.step);
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * The file system.
   * @default {denoFs()}
   */
  fs?: SweepFs;
  /**
   * How many checkpoint files to keep.
   * @default {2}
   */
  keep?: number;
}

/**
 * Saves a checkpoint atomically (temporary file, fsync, rename) and removes all but the newest
 * `keep` files.
 *
 * @param dir The `checkpoint/` folder (created if needed).
 * @param ck The checkpoint.
 * @param options File system and how many to keep.
 * @returns The path written.
 *
 * @example
 * ```ts ignore
 * import { saveCheckpoint } from "./checkpoint.ts";
 * await saveCheckpoint("runs/demo/train-0123456789/checkpoint", { step: 10, tensors: {}, state: null });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  ck: Checkpoint,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  const fs = options.fs ?? denoFs();
  const path = join(dir, `step-${String(ck.step).padStart(9, "0")}.ckpt`);
  await writeAtomic(fs, path, encodeCheckpoint(ck));
  for (const old of (await listCheckpoints(dir)).slice(options.keep ?? 2)) {
    await fs.remove(old.path).catch(() => {});
  }
  return path;
}

/** Options of {@linkcode loadLatestCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * The training has finished: an older checkpoint is not its final model, so the fix for a bad
   * file is to train again.
   * @default {false}
   */
  finished?: boolean;
}

/**
 * Loads and verifies the newest checkpoint of a folder.
 *
 * @param dir The `checkpoint/` folder.
 * @param options Whether the training has finished (changes the fix in error messages).
 * @returns The checkpoint, or `null` when there is none.
 *
 * @example
 * ```ts ignore
 * import { loadLatestCheckpoint } from "./checkpoint.ts";
 * const ck = await loadLatestCheckpoint("runs/demo/train-0123456789/checkpoint");
 * ```
 */
export async function loadLatestCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<Checkpoint | null> {
  const [latest, previous] = await listCheckpoints(dir);
  if (latest === undefined) return null;
  try {
    return decodeCheckpoint(await Deno.readFile(latest.path), latest.path);
  } catch (err) {
    if (!(err instanceof CheckpointError)) throw err;
    const again = `delete the folder ${join(dir, "..")} to train again`;
    const back = previous === undefined
      ? "train from scratch"
      : `resume from the previous one (step ${previous.step})`;
    const fix = options.finished ? again : `delete ${latest.path} to ${back}, or ${again}`;
    throw new CheckpointError(`${err.message}. Fix: ${fix}`, latest.path);
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice(); // aligned, owned copy
  if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: copy.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
