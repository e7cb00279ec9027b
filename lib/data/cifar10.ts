/**
 * CIFAR-10 in its standard binary format (https://www.cs.toronto.edu/~kriz/cifar.html,
 * `cifar-10-binary.tar.gz` → `cifar-10-batches-bin/`).
 *
 * Each file is a sequence of 3,073-byte records: 1 label byte (0–9), then 3,072 pixel bytes,
 * channel-planar — 1,024 red, then 1,024 green, then 1,024 blue, each 32×32 row-major. The loader
 * converts to channels-last `[n, 32, 32, 3]`. `data_batch_1.bin` … `data_batch_5.bin` (10,000
 * records each) form the 50,000-image training split, `test_batch.bin` the 10,000-image test split.
 *
 * @module
 */

import { fileExists } from "./files.ts";
import { concatSplits } from "./split.ts";
import type { ImageDataset, ImageSplit } from "./types.ts";

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/** The training files, in order. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) =>
  `data_batch_${i}.bin`
);
/** The test file. */
export const CIFAR10_TEST_FILE = "test_batch.bin";

/** Options for {@linkcode parseCifar10Batch}. */
export interface ParseCifar10Options {
  /**
   * The name used in error messages (usually the file path).
   * @default "CIFAR-10 data"
   */
  name?: string;
}

/**
 * Decodes one CIFAR-10 binary batch file.
 *
 * @param bytes The file contents: a whole number of 3,073-byte records.
 * @param options Error-message naming.
 * @returns The split, images `[n, 32, 32, 3]` (channels last).
 *
 * @example One all-red record of class 3
 * ```ts
 * import { parseCifar10Batch } from "./cifar10.ts";
 * const rec = new Uint8Array(3073);
 * rec[0] = 3;
 * rec.fill(255, 1, 1 + 1024);
 * const s = parseCifar10Batch(rec);
 * console.log(s.labels[0], [...s.images.subarray(0, 3)]); // 3 [255, 0, 0]
 * ```
 */
export function parseCifar10Batch(
  bytes: Uint8Array,
  options: ParseCifar10Options = {},
): ImageSplit {
  const name = options.name ?? "CIFAR-10 data";
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new TypeError(
      `Cannot parse ${name} as CIFAR-10 binary: its ${bytes.length} bytes are not a whole ` +
        `number of ${RECORD}-byte records (is it the python or matlab version?)`,
    );
  }
  const n = bytes.length / RECORD;
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const at = r * RECORD;
    const label = bytes[at] as number;
    if (label > 9) {
      throw new RangeError(
        `Cannot parse ${name} as CIFAR-10 binary: record ${r} has label ${label}, ` +
          `outside [0, 10) (is it CIFAR-100, whose records have 2 label bytes?)`,
      );
    }
    labels[r] = label;
    const out = r * 3 * PLANE;
    for (let c = 0; c < 3; c++) {
      const plane = at + 1 + c * PLANE;
      for (let p = 0; p < PLANE; p++) images[out + 3 * p + c] = bytes[plane + p] as number;
    }
  }
  return { images, labels, n };
}

/**
 * Loads CIFAR-10 from a `cifar-10-batches-bin/` directory (or its parent).
 *
 * @param dir The directory holding `data_batch_{1..5}.bin` and `test_batch.bin`, or the
 *   directory that contains `cifar-10-batches-bin/`.
 * @returns The data set, shape `[32, 32, 3]`, 10 classes, 50,000 / 10,000 examples.
 *
 * @example Load a user-supplied copy
 * ```ts ignore
 * import { loadCifar10 } from "./cifar10.ts";
 * const ds = await loadCifar10("/data/cifar-10-batches-bin");
 * console.log(ds.train.n); // 50000
 * ```
 */
export async function loadCifar10(dir: string): Promise<ImageDataset> {
  const nested = `${dir}/cifar-10-batches-bin`;
  const root = !(await fileExists(`${dir}/${CIFAR10_TEST_FILE}`)) && await fileExists(nested)
    ? nested
    : dir;
  const read = async (file: string): Promise<ImageSplit> => {
    const path = `${root}/${file}`;
    if (!(await fileExists(path))) {
      throw new Deno.errors.NotFound(
        `Cannot load cifar10 as ${path} does not exist: download ` +
          `https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, extract it and pass ` +
          `{ dir: ".../cifar-10-batches-bin" }`,
      );
    }
    return parseCifar10Batch(await Deno.readFile(path), { name: path });
  };
  const train: ImageSplit[] = [];
  for (const file of CIFAR10_TRAIN_FILES) train.push(await read(file));
  return {
    kind: "image",
    name: "cifar10",
    shape: [SIDE, SIDE, 3],
    train: concatSplits(train),
    test: await read(CIFAR10_TEST_FILE),
    numClasses: 10,
    source: root,
  };
}
