"""Distillation (`cifar-edge train --teacher RUN`): the loss, the teachers' checks, and a smoke student
taught by the shared smoke run, resumed after a stop halfway."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

from cifar_edge.errors import CifarEdgeError
from cifar_edge.train import make_config
from cifar_edge.data import load_cifar10, train_val_split
from cifar_edge.train import distill, trainer
from cifar_edge.train.augment import CameraAugment, epoch_arrays
from cifar_edge.train.distill import DistillationLoss, computing_in, load_teachers, soft_targets, with_soft_targets
from cifar_edge.train.trainer import train

LOGITS = np.array([[2.0, -1.0, 0.5, 0, 0, 0, 0, 0, 0, 1.0], [0.1, 0.2, 3.0, 0, 0, -2, 0, 0, 0, 0]], np.float32)
ONEHOT = np.eye(10, dtype=np.float32)[[0, 7]]


def test_with_weight_zero_the_loss_is_the_plain_recipes():
    teacher = np.full((2, 10), 0.1, np.float32)
    plain = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(ONEHOT, LOGITS)
    distilled = DistillationLoss(label_smoothing=0.2, weight=0.0)(np.concatenate([ONEHOT, teacher], 1), LOGITS)
    assert float(distilled) == pytest.approx(float(plain), rel=1e-6)


def test_the_soft_term_is_t_squared_times_the_kl_divergence_and_zero_at_the_teachers_own_answer():
    temperature = 3.0
    student = np.exp(LOGITS / temperature) / np.exp(LOGITS / temperature).sum(1, keepdims=True)
    teacher = np.array([np.roll(student[0], 1), student[1]], np.float32)
    kl = (teacher * np.log(teacher / student)).sum(1)
    loss = DistillationLoss(weight=1.0, temperature=temperature)(np.concatenate([ONEHOT, teacher], 1), LOGITS)
    assert float(loss) == pytest.approx(temperature ** 2 * kl.mean(), rel=1e-5)
    assert kl[1] == pytest.approx(0, abs=1e-6)  # the second student already answers as its teacher


def test_teachers_average_their_probabilities(smoke_run, real_test_split):
    run_dir, metrics = smoke_run
    teachers = load_teachers((str(run_dir), str(run_dir)), metrics["data"]["sha256"])
    images = real_test_split.images[:20]
    one = soft_targets(teachers[:1], images, 2.0)
    assert np.allclose(one.sum(1), 1, atol=1e-5) and np.allclose(soft_targets(teachers, images, 2.0), one, atol=1e-6)
    logits = teachers[0].model.predict(images, verbose=0)
    assert np.array_equal(one.argmax(1), logits.argmax(1))
    assert with_soft_targets(ONEHOT[:1].repeat(20, 0), teachers, images, 2.0).shape == (20, 20)


def test_a_teacher_answers_in_the_students_precision_with_its_own_weights(smoke_run, real_test_split):
    run_dir, metrics = smoke_run
    (in_float32,) = load_teachers((str(run_dir),), metrics["data"]["sha256"])
    (in_bfloat16,) = load_teachers((str(run_dir),), metrics["data"]["sha256"], "mixed_bfloat16")
    computing = [layer for layer in in_bfloat16.model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert {layer.dtype_policy.name for layer in computing} == {"mixed_bfloat16"}
    assert all(np.array_equal(a, b) for a, b in zip(in_bfloat16.model.get_weights(), in_float32.model.get_weights()))
    images = real_test_split.images[:50]
    exact, rounded = soft_targets([in_float32], images, 2.0), soft_targets([in_bfloat16], images, 2.0)
    assert not np.array_equal(exact, rounded) and np.abs(exact - rounded).max() < 0.05
    assert computing_in(in_float32.model, "float32") is in_float32.model  # already so: not rebuilt


def test_a_teacher_of_other_data_or_classes_or_unfinished_is_refused(smoke_run, tmp_path):
    run_dir, metrics = smoke_run
    with pytest.raises(CifarEdgeError, match="trained on other data"):
        load_teachers((str(run_dir),), "f" * 64)
    other = tmp_path / "other_classes"
    shutil.copytree(run_dir, other)
    record = json.loads((other / "metrics.json").read_text())
    record["per_class_test_accuracy"] = {f"class{i}": 0.5 for i in range(10)}
    (other / "metrics.json").write_text(json.dumps(record))
    with pytest.raises(CifarEdgeError, match="predicts other classes"):
        load_teachers((str(other),), metrics["data"]["sha256"])
    with pytest.raises(CifarEdgeError, match="not a finished run"):
        load_teachers((str(tmp_path / "missing"),), metrics["data"]["sha256"])


def test_a_distilled_smoke_run_records_its_teacher_and_resumes_after_a_stop(smoke_run, real_archive, tmp_path):
    teacher_dir, teacher_metrics = smoke_run
    config = make_config("smoke", teacher=(str(teacher_dir),), distill_weight=0.7, temperature=3.0,
                         noise_fraction=0.5)
    run_dir = tmp_path / "student"

    class StopAfterFirstEpoch(keras.callbacks.Callback):  # Ctrl-C at the end of epoch 1
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    original = keras.Model.fit

    def fit_then_stop(self, *args, **kwargs):
        return original(self, *args, **{**kwargs, "callbacks": [*kwargs["callbacks"], StopAfterFirstEpoch()]})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "fit", fit_then_stop)
        with pytest.raises(CifarEdgeError, match="interrupted after 1 finished epoch"):
            train(config, data=real_archive, run_dir=run_dir, progress=False)
    asked = []  # the images the teacher is asked about, call by call

    policies = []  # at each call: the student's compute precision, and the teacher's layers'

    def recording(onehot, teachers, images, temperature):
        asked.append(images.copy())
        policies.append((keras.mixed_precision.global_policy().name,
                         {layer.dtype_policy.name for layer in teachers[0].model.layers[1:]}))
        return with_soft_targets(onehot, teachers, images, temperature)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer, "with_soft_targets", recording)
        metrics = train(config, data=real_archive, run_dir=run_dir, resume=True, progress=False)

    # The resumed run asks about the validation images, then about epoch 2's augmented batch: the images
    # the student trains on in that epoch, shifted and flipped alike, but without the student's noise.
    train_split, val_split = train_val_split(load_cifar10(real_archive).train.take(slice(0, config.train_limit)),
                                             config.val_size, config.seed)
    epoch_two, _ = epoch_arrays(train_split, config.batch_size, config.seed, 1, config.translate, config.cutout)
    assert len(asked) == 2 and np.array_equal(asked[0], val_split.images) and np.array_equal(asked[1], epoch_two)
    assert all(teacher == {student} for student, teacher in policies)  # bfloat16 where the student is
    noisy, _ = epoch_arrays(train_split, config.batch_size, config.seed, 1, config.translate, config.cutout,
                            CameraAugment(noise_fraction=0.5))
    assert 0.4 < np.mean(np.any(noisy != epoch_two, axis=(1, 2, 3))) < 0.6

    assert metrics["epochs"] == 2 and (run_dir / "model.keras").is_file()
    assert metrics["teachers"] == [{"run": str(teacher_dir), "test_accuracy": teacher_metrics["test_accuracy"],
                                    "val_accuracy": teacher_metrics["val_accuracy"],
                                    "data_sha256": teacher_metrics["data"]["sha256"]}]
    assert f"--teacher {teacher_dir}" in metrics["command"] and "--distill-weight 0.7" in metrics["command"]
    header, *rows = (run_dir / "history.csv").read_text().splitlines()
    assert len(rows) == 2 and "teacher_seconds" in header.split(",") and metrics["teacher_seconds"] > 0
    assert 0.1 < metrics["test_accuracy"] <= 1


def test_a_teacher_view_replays_its_epochs_shifts_flips_cutout_and_order_under_fresh_noise(real_test_split):
    split = real_test_split.take(slice(0, 256))
    camera = CameraAugment(noise_fraction=0.5)
    first, labels_first, clean_first = epoch_arrays(split, 128, 0, 1, 2, 8, camera, keep_uncorrupted=True)
    replay, labels_replay, clean_replay = epoch_arrays(split, 128, 0, 5, 2, 8, camera, keep_uncorrupted=True, view=1)
    assert np.array_equal(clean_replay, clean_first) and np.array_equal(labels_replay, labels_first)
    assert not np.array_equal(replay, first)  # epoch 5's noise, not epoch 1's
    assert not np.array_equal(epoch_arrays(split, 128, 0, 5, 2, 8)[0], clean_first)  # without views: epoch 5's own


def test_teacher_views_need_a_teacher_and_a_count():
    with pytest.raises(CifarEdgeError, match="without a teacher"):
        make_config("smoke", teacher_views=4)
    with pytest.raises(CifarEdgeError, match="got -1"):
        make_config("smoke", teacher=("runs/wide",), teacher_views=-1)


def test_with_teacher_views_the_teacher_answers_each_view_once_even_across_a_resume(smoke_run, real_archive, tmp_path):
    teacher_dir, _ = smoke_run
    config = make_config("smoke", teacher=(str(teacher_dir),), teacher_views=1, epochs=3, noise_fraction=0.5)
    run_dir = tmp_path / "student"
    run_dir.mkdir()  # answers left by an earlier start killed in its first epoch: not this run's
    whole = (config.train_limit - config.val_size) // config.batch_size * config.batch_size
    np.savez(run_dir / distill.TeacherViews.FILE, view0=np.full((whole, 10), 0.1, np.float32))
    asked = []  # how many images each call to the teachers is about

    def recording(teachers, images, temperature):
        asked.append(len(images))
        return soft_targets(teachers, images, temperature)

    class StopAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    original = keras.Model.fit

    def fit_then_stop(self, *args, **kwargs):
        return original(self, *args, **{**kwargs, "callbacks": [*kwargs["callbacks"], StopAfterSecondEpoch()]})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distill, "soft_targets", recording)
        patch.setattr(keras.Model, "fit", fit_then_stop)
        with pytest.raises(CifarEdgeError, match="interrupted after 2 finished epoch"):
            train(config, data=real_archive, run_dir=run_dir, progress=False)
        val_images = config.val_size
        assert asked == [val_images, whole]  # epoch 2 replayed view 0
        assert (run_dir / distill.TeacherViews.FILE).is_file()
        patch.setattr(keras.Model, "fit", original)
        asked.clear()
        metrics = train(config, data=real_archive, run_dir=run_dir, resume=True, progress=False)
    assert asked == [val_images]  # view 0's answers came from the run folder
    assert not (run_dir / distill.TeacherViews.FILE).exists() and metrics["epochs"] == 3
    assert "--teacher-views 1" in metrics["command"] and metrics["config"]["teacher_views"] == 1
