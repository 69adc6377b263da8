# Two commands do all the set-up on a fresh machine with python3:
#   make run    creates .venv, installs cifar-edge[train,export,dev], trains the standard preset,
#               exports it to TFLite/ONNX and compares every file with the float model
#   make test   creates .venv the same way and runs the test suite
VENV   ?= .venv
PYTHON ?= python3
CLI     = $(VENV)/bin/cifar-edge
# The data: $CIFAR_EDGE_DATA, else the shared copy beside this checkout, else ~/.cache/cifar-edge/
# (downloaded there when missing).
DATA   ?= $(or $(CIFAR_EDGE_DATA),$(wildcard ../shared/data/cifar-10-python.tar.gz))
DATA_OPT = $(if $(DATA),--data $(DATA),)

.PHONY: run test install clean results

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[train,export,dev]"
	touch $@

run: $(VENV)/.installed
	$(CLI) data info $(DATA_OPT)
	@# --resume: a run killed halfway continues; a finished one is only reported.
	test -f runs/standard/metrics.json || $(CLI) train --preset standard --name standard --resume $(DATA_OPT)
	@# model_card.json is written last: without it an export was cut short, so it is redone.
	test -f exports/standard/model_card.json || $(CLI) export runs/standard --force $(DATA_OPT)
	$(CLI) compare exports/standard --max-drop 0.5 $(DATA_OPT)
	@echo
	@echo "report: exports/standard/compare.md, runs/standard/metrics.json and the PNGs beside them"
	@echo "next:   $(CLI) benchmark exports/standard/model_int8.tflite"

# Regenerates everything under results/ that the README quotes (after `make run`).
results: run
	mkdir -p results/standard
	cp runs/standard/metrics.json runs/standard/history.csv runs/standard/*.png results/standard/
	cp exports/standard/compare.json exports/standard/compare.md exports/standard/model_card.json \
	   exports/standard/confusion_tflite-int8.png results/standard/
	$(VENV)/bin/python benchmarks/train_speed.py $(DATA_OPT) > results/train_speed.txt
	$(VENV)/bin/python benchmarks/inference_latency.py exports/standard > results/inference_latency.txt
	$(VENV)/bin/python benchmarks/camera_fps.py --model exports/standard/model_int8.tflite $(DATA_OPT) \
	   > results/camera_fps.txt
	$(VENV)/bin/python benchmarks/jpeg_gap.py exports/standard/model_fp32.tflite $(DATA_OPT) > results/jpeg_gap.txt
	cat results/train_speed.txt results/inference_latency.txt results/camera_fps.txt results/jpeg_gap.txt

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
