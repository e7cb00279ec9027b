/**
 * Selection worker for `select_test.ts`: calls `initBackend` with the JSON options given as the
 * first argument (and, with `--then <name>`, a second time asking for `<name>`), then prints one
 * JSON line: `{ info, second, secondError }` or `{ error }`. Start-up lines go to stderr.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type BackendOptions, initBackend, toBackendName } from "../../lib/backend/mod.ts";

/** The worker's output line. */
export interface SelectOutput {
  info?: unknown;
  error?: { name: string; message: string };
  second?: unknown;
  secondError?: { name: string; message: string };
  active?: string;
}

function errorOf(e: unknown): { name: string; message: string } {
  return e instanceof Error
    ? { name: e.name, message: e.message }
    : { name: "?", message: String(e) };
}

const options = JSON.parse(Deno.args[0] ?? "{}") as BackendOptions;
const thenAt = Deno.args.indexOf("--then");
const out: SelectOutput = {};
try {
  out.info = await initBackend(options);
  out.active = tf.getBackend();
  if (thenAt >= 0) {
    try {
      out.second = await initBackend({
        backend: toBackendName(Deno.args[thenAt + 1] ?? "", "--then"),
      });
    } catch (e) {
      out.secondError = errorOf(e);
    }
  }
} catch (e) {
  out.error = errorOf(e);
}
console.log(JSON.stringify(out));
