/**
 * TensorFlow.js types under names the API docs can show. Public signatures across elbo use these
 * aliases rather than `tf.Tensor`, so `deno doc --lint` sees every referenced type exported.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs";

/** A TensorFlow.js tensor of any rank (`tf.Tensor`). */
export type Tensor = tf.Tensor;
/** A scalar tensor (`tf.Scalar`). */
export type Scalar = tf.Scalar;
/** A rank-1 tensor (`tf.Tensor1D`). */
export type Tensor1D = tf.Tensor1D;
/** A rank-2 tensor (`tf.Tensor2D`). */
export type Tensor2D = tf.Tensor2D;
/** A rank-3 tensor (`tf.Tensor3D`). */
export type Tensor3D = tf.Tensor3D;
/** A rank-4 tensor (`tf.Tensor4D`). */
export type Tensor4D = tf.Tensor4D;
/** A mutable tensor holding parameters or state (`tf.Variable`). */
export type Variable = tf.Variable;

/** A JSON value: everything a config, a checkpoint state or a `trainKey` may hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
