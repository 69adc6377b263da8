# Two commands do all the set-up on a fresh machine with python3:
#   make run    creates .venv, installs cifar-edge[train,export,dev], trains the standard preset,
#               exports it to TFLite/ONNX, compares every file with the float model and says what next
#   make test   creates .venv the same way and runs the test suite
VENV   ?= .venv
PYTHON ?= python3
CLI     = $(VENV)/bin/cifar-edge
# The data: $CIFAR_EDGE_DATA, else the shared copy beside this checkout, else ~/.cache/cifar-edge/
# (downloaded there when missing).
DATA   ?= $(or $(CIFAR_EDGE_DATA),$(wildcard ../shared/data/cifar-10-python.tar.gz))
DATA_OPT = $(if $(DATA),--data $(DATA),)
# The preset `make run` trains.
PRESET  ?= standard
# The candidates `make release` chooses among, on validation accuracy within the int8 size budget:
# every scored export of TRAININGS (make results scores them).
RELEASE ?= $(patsubst %/model_card.json,%,$(foreach run,$(TRAININGS),$(wildcard exports/$(run)/model_card.json)))
MAX_DROP ?= 0.5
# `make release` passes over a candidate whose mean accuracy on its corrupted validation images is lower
# (cifar-edge release --min-val-mca): the released model is the camera's, and a camera's frames are noisy.
# `make release MIN_VAL_MCA=` chooses on clean validation accuracy alone.
MIN_VAL_MCA ?= 0.82

.PHONY: run test test-fast install browser gui-opencv clean results release trainings benchmarks pi-check robustness
SHELL := bash

# Every training results/ and the README quote, in this order (the standard preset's seeds first).  Each is resumable: `make trainings`
# again (after a kill, a reboot, a new session) continues the unfinished one from its last epoch and
# skips finished ones.  Hours on a 2-core CPU: run it in the background and read runs/NAME.log.
TRAININGS = fast standard_30ep standard_30ep_seed1 standard_30ep_seed2 standard_20ep standard_20ep_seed1 standard_20ep_seed2 \
            robust wide long distilled wide_seed1 distilled_ensemble airbench96 distilled_airbench96 robust_60ep \
            distilled_long airbench96_seed1 distilled_best distilled_patient
TRAIN_fast           = --preset fast
TRAIN_standard_20ep       = --preset standard --epochs 20   # the standard preset until it grew to 30 epochs
TRAIN_standard_20ep_seed1 = --preset standard --epochs 20 --seed 1
TRAIN_standard_20ep_seed2 = --preset standard --epochs 20 --seed 2
TRAIN_robust         = --preset robust
TRAIN_wide           = --preset wide
TRAIN_long           = --preset long
TRAIN_distilled      = --preset distilled   # taught by runs/wide, so after it
TRAIN_wide_seed1     = --preset wide --seed 1
# taught by an ensemble of both wide runs, for twice the epochs
TRAIN_distilled_ensemble = --preset distilled --epochs 40 --teacher runs/wide,runs/wide_seed1
# the best preset, airbench96's recipe (4.4x wide's compute: a GPU's minute, hours on a 2-core CPU), named
# for it; a 60-epoch student of it, and that student's untaught twin (benchmarks/distillation.py compares the two)
TRAIN_airbench96     = --preset best
TRAIN_airbench96_seed1 = --preset best --seed 1
TRAIN_distilled_airbench96 = --preset distilled --epochs 60 --teacher runs/airbench96
TRAIN_robust_60ep    = --preset robust --epochs 60
# long's 40 epochs and cutout with a lighter share of noisy images (0.15), taught by both wide runs, whose
# answers on the first 10 epochs' views are replayed: a camera model that keeps more clean accuracy
TRAIN_distilled_long = --preset distilled --epochs 40 --cutout 8 --noise-fraction 0.15 \
                       --teacher runs/wide,runs/wide_seed1 --teacher-views 10
# distilled_long's recipe taught by the best preset's second seed (trained on a CPU, so its model is here)
# instead of both wide runs: what the stronger teacher alone is worth to the same student
TRAIN_distilled_best = --preset distilled --epochs 40 --cutout 8 --noise-fraction 0.15 \
                       --teacher runs/airbench96_seed1 --teacher-views 10
# the same teacher, patiently: twice the epochs, and answers kept for 32 views so each is replayed two and a
# half times, as often as the 10 of 20 epochs that kept distillation's gain at a tenth of the data (docs/results.md)
TRAIN_distilled_patient = --preset distilled --epochs 80 --cutout 8 --noise-fraction 0.15 \
                          --teacher runs/airbench96_seed1 --teacher-views 32
# the standard preset, three seeds: 30 epochs, 1.0 PFLOPs, 45 minutes at the budgets' rate (378 GFLOP/s)
TRAIN_standard_30ep       = --preset standard --epochs 30
TRAIN_standard_30ep_seed1 = --preset standard --epochs 30 --seed 1
TRAIN_standard_30ep_seed2 = --preset standard --epochs 30 --seed 2

trainings: $(foreach run,$(TRAININGS),runs/$(run)/metrics.json)

runs/%/metrics.json: | $(VENV)/.installed
	@mkdir -p runs
	set -o pipefail; $(CLI) train $(TRAIN_$*) --name $* --resume --no-progress $(DATA_OPT) 2>&1 | tee -a runs/$*.log

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[train,export,dev]"
	touch $@

run: $(VENV)/.installed
	$(CLI) data info $(DATA_OPT)
	@# --resume: a run killed halfway continues; a finished one is only reported.
	test -f runs/$(PRESET)/metrics.json || $(CLI) train --preset $(PRESET) --name $(PRESET) --resume $(DATA_OPT)
	@# model_card.json is written last: without it an export was cut short, so it is redone.
	test -f exports/$(PRESET)/model_card.json || $(CLI) export runs/$(PRESET) --force $(DATA_OPT)
	$(CLI) compare exports/$(PRESET) --max-drop $(MAX_DROP) $(DATA_OPT)
	test -d samples || $(CLI) data samples samples --count 10 $(DATA_OPT)
	@echo
	@echo "report:  exports/$(PRESET)/compare.md (every format on the test set), runs/$(PRESET)/metrics.json,"
	@echo "         runs/$(PRESET)/training_curves.png and confusion_matrix.png"
	@echo "try:     $(CLI) predict exports/$(PRESET)/model_int8.tflite samples/*.png"
	@echo "         $(CLI) camera --model exports/$(PRESET)/model_int8.tflite --source 0"

# Publishes the best of $(RELEASE) on validation as the shipped model (models/) and scores it with bare
# interpreters.
release: $(VENV)/.installed
	@test -n "$(RELEASE)" || { echo "no scored export in exports/: make trainings results first"; exit 1; }
	$(CLI) release $(RELEASE) --force $(if $(MIN_VAL_MCA),--min-val-mca $(MIN_VAL_MCA) $(DATA_OPT),)
	$(VENV)/bin/python benchmarks/verify_release.py $(DATA_OPT) > results/release_check.txt
	cat results/release_check.txt

# Regenerates what results/ holds and the README quotes, from the finished runs of `make trainings`
# (those still training are left out and can be added by running this again; a run already exported
# and compared is not redone): each run's metrics,
# curves and log; its export and compare table; the seed spread and results table.  Then `make
# release` picks the released model and `make benchmarks` measures it.
FINISHED = $(foreach run,$(TRAININGS),$(if $(wildcard runs/$(run)/metrics.json),$(run)))
# The table lists every run recorded in results/, including those trained on another machine or in an
# earlier checkout whose runs/ is gone.
recorded = $(foreach run,$(1),$(if $(or $(wildcard runs/$(run)/metrics.json),$(wildcard results/$(run)/metrics.json)),$(run)))
RECORDED = $(call recorded,$(TRAININGS))
# $(call seed_spread,RUNS,OUT): the spread of one recipe's seeds among RUNS, once two are recorded
seed_spread = $(if $(word 2,$(call recorded,$(1))),$(VENV)/bin/python benchmarks/seed_spread.py \
              $(addprefix results/,$(call recorded,$(1))) > $(2))
results: $(VENV)/.installed
	@test -n "$(FINISHED)" || { echo "no finished training in runs/: make trainings first"; exit 1; }
	@# A run whose model.keras stayed on the machine that trained it keeps only its record.
	for run in $(FINISHED); do \
	  mkdir -p results/$$run && cp runs/$$run/history.csv runs/$$run/*.png results/$$run/ || exit 1; \
	  if test -f runs/$$run/model.keras; then \
	    test -f exports/$$run/model_card.json || { $(CLI) export runs/$$run --force --no-progress $(DATA_OPT) && \
	      rm -f exports/$$run/compare.json; } || exit 1; \
	    test -f exports/$$run/compare.json || $(CLI) compare exports/$$run --max-drop $(MAX_DROP) --no-progress \
	      $(DATA_OPT) || exit 1; \
	    cp exports/$$run/compare.json exports/$$run/compare.md exports/$$run/confusion_tflite-int8.png \
	      results/$$run/ || exit 1; \
	  fi; \
	  cp runs/$$run.log results/$$run/train.log 2>/dev/null; cp runs/$$run/metrics.json results/$$run/ || exit 1; \
	done
	$(VENV)/bin/python benchmarks/accuracy_vs_compute.py $(foreach run,$(RECORDED),results/$(run)) \
	   --plot docs/accuracy_vs_compute.png > results/accuracy_vs_compute.txt
	$(call seed_spread,standard_20ep standard_20ep_seed1 standard_20ep_seed2,results/standard_20ep_seeds.txt)
	$(call seed_spread,standard_30ep standard_30ep_seed1 standard_30ep_seed2,results/standard_30ep_seeds.txt)
	$(call seed_spread,airbench96 airbench96_seed1,results/best_seeds.txt)
	$(VENV)/bin/python docs/cli_reference.py
	$(VENV)/bin/python docs/quote_results.py
	cat results/accuracy_vs_compute.txt

# Speed and size, each against a baseline in the same run (minutes: give them the machine to
# yourself): the trainer's speed, and the released model (make release) and its run's export.
RELEASED_RUN = $(shell $(PYTHON) -c "import json; print(json.load(open('models/model_card.json'))['released_from'])" 2>/dev/null)
benchmarks: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/train_speed.py $(DATA_OPT) > results/train_speed.txt
	$(VENV)/bin/python benchmarks/step_profile.py $(DATA_OPT) > results/step_profile.txt
	@test -d "$(RELEASED_RUN)" || { echo "the released model's export is not in exports/: make results release first"; exit 1; }
	$(VENV)/bin/python benchmarks/inference_latency.py $(RELEASED_RUN) > results/inference_latency.txt
	$(VENV)/bin/python benchmarks/camera_fps.py --model models/cifar_edge_int8.tflite $(DATA_OPT) > results/camera_fps.txt
	$(VENV)/bin/python benchmarks/jpeg_quality.py models/cifar_edge_int8.tflite $(DATA_OPT) > results/jpeg_quality.txt
	$(VENV)/bin/python docs/quote_results.py
	cat results/train_speed.txt results/step_profile.txt results/inference_latency.txt results/camera_fps.txt \
	  results/jpeg_quality.txt

test: $(VENV)/.installed browser gui-opencv
	$(VENV)/bin/python -m pytest -q

# The camera page's test drives Debian's Chromium (packages chromium, chromium-driver: about 40 s to
# install).  Installed here when missing and apt-get can run (root, or sudo without a password);
# elsewhere that test skips, except in CI, where it fails.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: no Chromium, and apt-get cannot run here: the camera page's browser test will skip"; fi; }

# The camera window's test and screenshot need a screen and OpenCV with GUI support.  The screen is
# Xvfb (package xvfb), installed like Chromium above.  The GUI OpenCV (opencv-python, the same version
# as the headless one the package uses) and mss go to build/gui-opencv with pip --target, so the
# package's own install stays headless, as on a Pi.
GUI_OPENCV = build/gui-opencv
gui-opencv: $(GUI_OPENCV)/.installed
$(GUI_OPENCV)/.installed: | $(VENV)/.installed
	@command -v Xvfb >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq xvfb >/dev/null; \
	  else echo "note: no Xvfb, and apt-get cannot run here: the camera window's test will skip"; fi; }
	$(VENV)/bin/python -m pip install --quiet --no-deps --target $(GUI_OPENCV) mss \
	  "opencv-python==$$($(VENV)/bin/python -c 'from importlib.metadata import version; print(version("opencv-python-headless"))')"
	touch $@

# The released model on corrupted test images (CIFAR-10-C's 15 corruptions and 3 camera conditions, 5
# severities, 10,000 images each; the sets are cached in ~/.cache/cifar-edge/corrupted): the report in
# results/robustness.txt and results/robustness/, its summary in models/MODEL_CARD.md.  The float
# reference is the Keras model when the released run's export is here (the float ONNX file, which agrees
# with it on every test image in compare, is then left out: a quarter hour for a copy of its column), else
# the released float ONNX; either way the summary goes into the model cards.
ROBUSTNESS_OF = $(if $(wildcard $(RELEASED_RUN)/model.keras),$(RELEASED_RUN) --formats keras-fp32$(,)tflite-int8$(,)onnx-int8 --record-in models,models --record-in models)
, := ,
robustness: $(VENV)/.installed
	{ echo "made by: make robustness (cifar-edge robustness $(ROBUSTNESS_OF))"; \
	  $(CLI) robustness $(ROBUSTNESS_OF) --out results/robustness --no-progress $(DATA_OPT); } > results/robustness.txt.partial
	mv results/robustness.txt.partial results/robustness.txt
	$(VENV)/bin/python docs/quote_results.py
	cat results/robustness.txt

# The Raspberry Pi install proven on arm64 under qemu (root; slow; resumable): results/pi_arm64.txt.
# SUITE=trixie checks Python 3.13 as well.  Not part of make test.
pi-check: $(VENV)/.installed
	DATA=$(DATA) bash benchmarks/pi_arm64.sh
	$(VENV)/bin/python docs/quote_results.py

# The quick loop while developing: everything that needs no trained model (under a minute).
test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) runs exports samples .pytest_cache
