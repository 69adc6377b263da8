#!/usr/bin/env bash
# The Raspberry Pi install, proven on arm64 from an x86-64 Debian or Ubuntu machine under qemu.
#
# Builds (or reuses) a Debian arm64 root, the userland of Raspberry Pi OS (bookworm: Python 3.11;
# SUITE=trixie: 3.13), installs the built cifar-edge wheel there with pip as a Pi user would (no
# TensorFlow), runs `predict` and `camera --headless`, and scores the released int8 TFLite and int8
# ONNX files on the 10,000 test images with the arm64 interpreters, checked image by image against
# this machine's (`cifar-edge eval --against`).  Writes results/pi_arm64.txt (pi_arm64_trixie.txt).
# The float ONNX file, the reference rather than a device file, is timed but scored only when asked
# (SCORE=cifar_edge_fp32.onnx): qemu emulates float arithmetic slowly (an hour or more for the test set).
#
#   make pi-check DATA=../shared/data/cifar-10-python.tar.gz
#
# Needs root (debootstrap, chroot, binfmt_misc), about 1.5 GB of disk and time: the root takes about
# 20 minutes the first time and is cached in $PI_ROOT (default ~/.cache/cifar-edge/pi-arm64); the
# scoring about half an hour for the int8 TFLite file, ten minutes for the int8 ONNX one (2 EPYC cores).  Each
# finished step is kept (the scores in slices of 500 images, in the root), so a killed run goes on
# from where it stopped.
# What emulation cannot tell: a Pi's speed, its camera, Picamera2.
set -euo pipefail

SUITE=${SUITE:-bookworm}
DATA=${DATA:-${CIFAR_EDGE_DATA:?set DATA or CIFAR_EDGE_DATA to cifar-10-python.tar.gz}}
PI_ROOT=${PI_ROOT:-$HOME/.cache/cifar-edge/pi-arm64}
ROOT=$PI_ROOT/$SUITE
VENV=${VENV:-.venv}
WORK=build/pi-check/$SUITE
OUT=results/pi_arm64$([ "$SUITE" = bookworm ] || echo "_$SUITE").txt
INSIDE=/opt/pi-check  # the work folder, seen from inside the root
THREADS=2

say() { echo "pi-check: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot and binfmt_misc)"; exit 2; }
[ -f "$DATA" ] || { say "no CIFAR-10 archive at $DATA"; exit 2; }

host_debian_mirror() {  # the first Debian archive the host's apt uses (deb822 or one-line format)
    { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } | grep -v security | head -1
}

install_host_tools() {
    command -v debootstrap >/dev/null && command -v qemu-aarch64-static >/dev/null \
        && command -v update-binfmts >/dev/null && return
    say "installing qemu-user-static, binfmt-support and debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support debootstrap
}

enable_arm64_binaries() {
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable qemu-aarch64 2>/dev/null || true
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { say "cannot register qemu-aarch64 with binfmt_misc"; exit 1; }
}

build_root() {
    [ -f "$ROOT/.pi-check-root" ] && return
    local mirror=${MIRROR:-$(host_debian_mirror)}
    [ -n "$mirror" ] || { say "no Debian mirror in the host's apt sources: set MIRROR"; exit 2; }
    say "building the $SUITE arm64 root in $ROOT (about 20 minutes under emulation)"
    rm -rf "$ROOT.partial"
    mkdir -p "$PI_ROOT"
    debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$ROOT.partial" "$mirror" >"$PI_ROOT/debootstrap-$SUITE.log"
    touch "$ROOT.partial/.pi-check-root"
    mv "$ROOT.partial" "$ROOT"
}

# Runs a command inside the root with /proc mounted (pip wants it) and /sys left out (see above: with
# it, XNNPACK detects CPU features that qemu reports but does not emulate, and crashes).
inside() {
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    chroot "$ROOT" /usr/bin/env -i PATH=/opt/venv/bin:/usr/bin:/bin HOME=/root LC_ALL=C.UTF-8 \
        PIP_CERT=/etc/ssl/certs/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} "$@"
}
trap 'mountpoint -q "$ROOT/proc" && umount "$ROOT/proc"; true' EXIT

build_wheel() {  # from a copy of the tracked and new files: a build leaves build/ and egg-info behind
    local source=$WORK/source
    rm -rf "$source" "$WORK/wheel" && mkdir -p "$source"
    git ls-files -co --exclude-standard | grep -v '^build/' | tar -cf - -T - | tar -xf - -C "$source"
    "$VENV/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/wheel" "$source"
    rm -rf "$source"
}

install_wheel() {  # the Pi install: the wheel and its base dependencies, plus ONNX Runtime for the .onnx file
    local wheel
    wheel=$(ls "$WORK"/wheel/cifar_edge-*.whl)
    mkdir -p "$ROOT$INSIDE"
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/host-ca.crt"
    cp "$wheel" "$ROOT$INSIDE/"
    if ! cmp -s "$wheel" "$ROOT/opt/venv/installed.whl" 2>/dev/null; then
        say "installing $(basename "$wheel") in the arm64 root with pip"
        [ -x "$ROOT/opt/venv/bin/python" ] || inside python3 -m venv /opt/venv
        # The same version number each build: force cifar-edge itself in, then let pip add what is missing.
        inside pip install --quiet --force-reinstall --no-deps "$INSIDE/$(basename "$wheel")"
        inside pip install --quiet "$INSIDE/$(basename "$wheel")" onnxruntime
        cp "$wheel" "$ROOT/opt/venv/installed.whl"
    fi
}

copy_inputs() {
    cmp -s "$DATA" "$ROOT$INSIDE/cifar-10-python.tar.gz" || cp "$DATA" "$ROOT$INSIDE/cifar-10-python.tar.gz"
    cp models/cifar_edge_int8.tflite models/cifar_edge_int8.onnx models/cifar_edge_fp32.onnx "$ROOT$INSIDE/"
    rm -rf "$ROOT$INSIDE/samples" "$WORK/samples"
    "$VENV/bin/cifar-edge" data samples "$WORK/samples" --count 20 --data "$DATA" >/dev/null
    cp -r "$WORK/samples" "$ROOT$INSIDE/samples"
    "$VENV/bin/python" - "$DATA" "$ROOT$INSIDE/clip.avi" <<'EOF'
import sys
sys.path.insert(0, "benchmarks")
from synthetic_video import write_test_video
from cifar_edge.data import load_cifar10
write_test_video(sys.argv[2], load_cifar10(sys.argv[1], splits=("test",)).test.images[:120])
EOF
}

# The labels `predict --json` gives the sample images on one side, as "file label" lines.
labels_of() { python3 -c 'import json, sys, os
for line in sys.stdin: r = json.loads(line); print(os.path.basename(r["path"]), r["label"])'; }

score_arm64() {  # eval's predictions files from the arm64 interpreters, kept between runs
    local model=$1 file=$WORK/arm64_${1//./_}.json
    if [ ! -f "$file" ] || ! grep -q "$(sha256sum "models/$model" | cut -c1-64)" "$file"; then
        say "scoring $model on 10,000 test images under arm64 emulation (each 500 kept as they finish)"
        # In slices kept in the root, so a kill loses at most one slice (the float file takes hours).
        cp benchmarks/pi_arm64_score.py "$ROOT$INSIDE/"
        inside python "$INSIDE/pi_arm64_score.py" "$INSIDE/$model" --data "$INSIDE/cifar-10-python.tar.gz" \
            --threads $THREADS --out "$INSIDE/arm64_${model//./_}.json" >&2
        cp "$ROOT$INSIDE/arm64_${model//./_}.json" "$file"
    fi
}

install_host_tools
enable_arm64_binaries
mkdir -p "$WORK" results
build_root
build_wheel
install_wheel
copy_inputs

x86_labels=$("$VENV/bin/cifar-edge" predict "$WORK"/samples/*.png --json | labels_of)
arm_labels=$(inside sh -c "cifar-edge predict $INSIDE/samples/*.png --json" | labels_of)
same=$(comm -12 <(echo "$x86_labels" | sort) <(echo "$arm_labels" | sort) | wc -l)
camera=$(inside cifar-edge camera --model "$INSIDE/cifar_edge_int8.tflite" --source "$INSIDE/clip.avi" \
    --headless --output "$INSIDE/camera.jsonl" 2>&1 >/dev/null | tail -1)
# SCORE names the files to score this time (the report says which are not done); the released device
# files by default.
for model in ${SCORE:-cifar_edge_int8.tflite cifar_edge_int8.onnx}; do score_arm64 "$model"; done

# Latency under emulation says nothing of a Pi's milliseconds; it is printed for which kernels ran, and
# for what the float file would cost to score (few calls: emulated, each takes seconds).
milliseconds() { python3 -c 'import json, sys, os
print(", ".join("%s %.1f ms (%d calls)" % (os.path.basename(r["model"]), r["median_ms"], r["runs"]) for r in json.load(sys.stdin)))'; }
latency="$(inside cifar-edge benchmark "$INSIDE/cifar_edge_int8.tflite" "$INSIDE/cifar_edge_int8.onnx" --runs 50 --json | milliseconds), \
$(inside cifar-edge benchmark "$INSIDE/cifar_edge_fp32.onnx" --warmup 1 --runs 3 --json | milliseconds)"

facts=(
    "pip installed in the root: $(inside pip list --format=freeze 2>/dev/null | grep -iE \
        '^(cifar-edge|numpy|opencv-python-headless|ai-edge-litert|onnxruntime|typer)==' | tr '\n' ' ')"
    "TensorFlow in the root: $(inside python -c 'import tensorflow' 2>/dev/null && echo installed || echo none)"
    "predict on $(echo "$x86_labels" | wc -l) sample PNGs: the same label as on x86 for $same"
    "camera --headless on a 120-frame synthetic clip: $camera"
    "latency at batch 1, 1 thread, emulated (not a Pi's speed): $latency"
)
"$VENV/bin/python" benchmarks/pi_arm64_report.py "$WORK" --data "$DATA" --threads $THREADS --facts "${facts[@]}" \
    --environment "Debian $SUITE arm64, $(inside python3 --version), on $(qemu-aarch64-static --version | head -1 | sed 's/ (.*//')" \
    > "$OUT.partial"
mv "$OUT.partial" "$OUT"
cat "$OUT"
