"""The network: a fast ResNet-free CNN in the style of Keller Jordan's airbench94.

Input is raw uint8 RGB as `cifar_edge.contract` defines it; scaling and per-channel normalisation
happen inside the graph, so an exported model takes camera pixels directly and no caller can get
preprocessing wrong.  Output is one logit per class, in the contract's order.

    uint8 -> normalise -> 2x2 whitening conv (frozen, set from data) -> GELU
          -> ConvGroup(w1) -> ConvGroup(w2) -> ConvGroup(w3) -> global max pool -> linear -> x logit_scale

A ConvGroup is conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU; with `convs_per_group=3`
(airbench96's) a third conv3x3 -> BN follows, and the GELU comes after adding back the output of the
first GELU.  BatchNorm has no learnt scale (it would only fight weight decay) and its shift is a `ScaledBias`, which is how a plain SGD
optimizer gives biases a 64x larger learning rate without parameter groups.

`build_model(..., channels_first=True)` builds the same network with its convolutions in NCHW after the
normalisation (input stays uint8 NHWC): PyTorch's CPU convolutions run that layout faster.  Keras
stores conv kernels as (kh, kw, in, out) in both layouts, so the two twins share weights one to one,
and the trainer hands the NHWC twin, which exporters want, the weights trained in NCHW.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import layers, ops

from cifar_edge.contract import CHANNELS, CLASSES, INPUT_SIZE, MEAN, STD
from cifar_edge.train.recipe import TrainConfig

WHITENED_DIRECTIONS = 2 * 2 * CHANNELS  # a 2x2 patch of RGB has 12 values: one filter per direction


@keras.saving.register_keras_serializable("cifar_edge")
class ScaledBias(layers.Layer):
    """Adds a learnt per-channel bias stored as `bias / scale`.

    With SGD the effective learning rate of `scale * p` is `scale**2` times that of `p`, while weight
    decay on `p` still shrinks the bias at the ordinary rate: exactly airbench's "bias_scaler" param
    group (lr x 64, wd / 64) in a form every Keras optimizer and backend understands.
    """

    def __init__(self, scale: float, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.axis = scale, axis

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[self.axis],), initializer="zeros", name="bias")

    def call(self, x):
        bias = self.bias if self.axis == -1 else ops.reshape(self.bias, (-1, 1, 1))  # NCHW: over C
        return x + self.scale * bias

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "axis": self.axis}


@keras.saving.register_keras_serializable("cifar_edge")
class PartialIdentity(keras.initializers.Initializer):
    """Torch-default uniform init whose first `in_channels` filters are the identity (Dirac) kernel.

    The identity half lets signal pass straight through a fresh conv, which makes the first epoch
    of a short schedule count.
    """

    def __call__(self, shape, dtype=None):
        kh, kw, cin, cout = shape
        kernel = keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform")(shape, dtype)
        dirac = np.zeros(shape, dtype="float32")
        for c in range(min(cin, cout)):
            dirac[kh // 2, kw // 2, c, c] = 1.0
        mask = np.zeros(shape, dtype="float32")
        mask[..., : min(cin, cout)] = 1.0
        return ops.cast(kernel * (1 - mask) + dirac, dtype or "float32")


def layout(channels_first: bool) -> dict:
    """Keyword arguments that put a conv, pooling or normalisation layer in NHWC or NCHW."""
    return {"data_format": "channels_first" if channels_first else "channels_last"}


@keras.saving.register_keras_serializable("cifar_edge")
class TrainingBatchNorm(layers.BatchNormalization):
    """BatchNormalization whose training pass is TensorFlow's fused kernel: the same statistics and
    output, the same weights, one op forward and one backward.

    Keras 3 normalises in training with separate ops (upcast, mean, variance, normalise, downcast) and
    differentiates through each; in a mixed_bfloat16 step those memory-bound passes cost as much as the
    convolutions they sit between (benchmarks/step_profile.py).  Only the trainer's model uses this
    layer; the model it saves has plain BatchNormalization, so a deliverable needs nothing of ours to
    load.  Other backends, NCHW, and inference take Keras' own path."""

    def call(self, inputs, training=None, mask=None):
        fused = (training and self.trainable and mask is None and keras.backend.backend() == "tensorflow"
                 and self.axis in (-1, len(inputs.shape) - 1))
        if not fused:
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=tf.ones([channels]), offset=tf.zeros([channels]), mean=tf.zeros([0]),
            variance=tf.zeros([0]), epsilon=self.epsilon, data_format="NHWC", is_training=True)
        # The kernel reports the unbiased variance; Keras' moving statistics average the biased one.
        count = tf.cast(tf.size(inputs) // channels, "float32")
        variance = variance * (count - 1) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1 - self.momentum))
        return ops.cast(outputs, self.compute_dtype)


def gelu(name: str) -> layers.Activation:
    """GELU computed in float32 whatever the training precision: with bfloat16 inputs TensorFlow's CPU
    kernels compute erf and its gradient element by element, which made a mixed_bfloat16 step slower
    than the casts to float32 and back cost (benchmarks/step_profile.py).  Exact, not tanh-approximated,
    as airbench's."""
    return layers.Activation("gelu", name=name, dtype="float32")


def conv(filters: int, name: str, channels_first: bool) -> layers.Conv2D:
    return layers.Conv2D(filters, 3, padding="same", use_bias=False,
                         kernel_initializer=PartialIdentity(), name=name, **layout(channels_first))


def batch_norm(x, name: str, config: TrainConfig, channels_first: bool, for_training: bool = False):
    axis = 1 if channels_first else -1
    norm = TrainingBatchNorm if for_training else layers.BatchNormalization
    x = norm(axis=axis, momentum=config.bn_momentum, epsilon=1e-5, center=False, scale=False, name=f"{name}_bn")(x)
    return ScaledBias(config.bias_scale, axis=axis, name=f"{name}_shift")(x)


def conv_group(x, filters: int, name: str, config: TrainConfig, channels_first: bool, for_training: bool):
    def norm(x, part: str):
        return batch_norm(x, f"{name}_{part}", config, channels_first, for_training)

    x = conv(filters, f"{name}_conv1", channels_first)(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool", **layout(channels_first))(x)
    x = gelu(f"{name}_act1")(norm(x, "1"))
    shortcut = x
    x = gelu(f"{name}_act2")(norm(conv(filters, f"{name}_conv2", channels_first)(x), "2"))
    if config.convs_per_group == 2:
        return x
    # airbench96's group: a third conv, and the group's pooled input added back before the last GELU,
    # so the deeper group starts out close to the shallower one.
    x = norm(conv(filters, f"{name}_conv3", channels_first)(x), "3")
    x = layers.Add(name=f"{name}_residual")([x, shortcut])
    return gelu(f"{name}_act3")(x)


def build_model(config: TrainConfig = TrainConfig(), name: str = "cifar_edge_net",
                channels_first: bool = False, for_training: bool = False) -> keras.Model:
    """The network `config` describes (its widths, BatchNorm momentum, bias and logit scales); NCHW
    inside when `channels_first` (see the module docstring), with the same uint8 NHWC input.  The
    trainer's twin (`for_training`) has the same weights and trains faster (`TrainingBatchNorm`)."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, CHANNELS), dtype="uint8", name="image")
    x = inputs
    for layer in normalization_layers():
        x = layer(x)
    if channels_first:
        x = layers.Permute((3, 1, 2), name="to_nchw")(x)
    # 2x2 patch-whitening filters (and their negatives), computed from data by `whitening_kernel`.
    x = layers.Conv2D(2 * WHITENED_DIRECTIONS, 2, padding="valid", use_bias=False, trainable=False, name="whiten",
                      **layout(channels_first))(x)
    shift = ScaledBias(config.bias_scale, axis=1 if channels_first else -1, name="whiten_shift")
    x = gelu("whiten_act")(shift(x))
    for i, width in enumerate(config.widths, start=1):
        x = conv_group(x, width, f"block{i}", config, channels_first, for_training)
    x = layers.GlobalMaxPooling2D(name="pool", **layout(channels_first))(x)
    x = layers.Dense(len(CLASSES), use_bias=False, name="head",
                     kernel_initializer=keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"))(x)
    # A small logit scale acts like a temperature: it keeps early training from overconfidence.
    outputs = layers.Rescaling(config.logit_scale, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def logits_of(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """`model`'s outputs for `images`, batch by batch: the same batches `model.predict` would make.
    Not `predict` itself: on a 2-core CPU it kept only one core busy on some calls, which then took
    about twice as long (`benchmarks/keras_predict.py`)."""
    if not len(images):
        return np.zeros((0, *model.output_shape[1:]), np.float32)
    return np.concatenate([np.asarray(model.predict_on_batch(images[start:start + batch_size]))
                           for start in range(0, len(images), batch_size)])


def normalization_layers(dtype=None) -> list[layers.Layer]:
    """uint8 pixels -> 0..1 -> zero mean and unit variance per channel (the contract's MEAN and STD).
    The model's first layers, and what `normalized_pixels` applies to fit the whitening filters."""
    return [layers.Rescaling(1 / 255.0, name="to_unit", dtype=dtype),
            layers.Normalization(mean=MEAN, variance=np.square(STD), name="normalize", dtype=dtype)]


def normalized_pixels(images: np.ndarray) -> np.ndarray:
    """`images` as the whitening layer sees them, computed in float32 whatever the training precision."""
    x = ops.convert_to_tensor(images, "float32")
    for layer in normalization_layers(dtype="float32"):
        x = layer(x)
    return ops.convert_to_numpy(x)


def whitening_kernel(images: np.ndarray, eps: float) -> np.ndarray:
    """2x2x3 -> 24 kernel that decorrelates image patches: eigenvectors of the patch second-moment
    matrix scaled by 1/sqrt(eigenvalue + eps), stacked with their negatives so GELU keeps both signs.
    `images` are uint8 training images."""
    normalized = normalized_pixels(images)
    height, width = normalized.shape[1:3]
    patches = np.stack([normalized[:, i:i + height - 1, j:j + width - 1, :] for i in (0, 1) for j in (0, 1)], axis=3)
    patches = patches.reshape(-1, WHITENED_DIRECTIONS).astype("float64")  # (h, w, c): Keras' kernel layout
    eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
    filters = (eigenvectors / np.sqrt(eigenvalues + eps)).T[::-1]  # strongest direction first
    filters = np.concatenate([filters, -filters]).reshape(2 * WHITENED_DIRECTIONS, 2, 2, CHANNELS)
    return filters.transpose(1, 2, 3, 0).astype("float32")


def recalibrate_batchnorm(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> int:
    """Re-estimates every BatchNorm layer's moving mean and variance for the model's final weights,
    as the average of the batch statistics over `images` (what torch's `swa_utils.update_bn` does).

    Lookahead hands back averaged weights, but the moving statistics were collected along the fast
    weights' path: airbench averages those buffers with the weights, while a Keras optimizer only
    sees trainable variables.  Returns the number of images used."""
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    batch_size = min(batch_size, len(images))
    batches = len(images) // batch_size
    try:
        for k in range(batches):
            for layer in norms:
                layer.momentum = k / (k + 1)  # the first batch replaces the statistics, later ones average in
            model(images[k * batch_size:(k + 1) * batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
    return batches * batch_size
