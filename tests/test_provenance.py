"""What a result records about how it was made: the CPU time a virtual machine's hypervisor took, and
a history file whose resumed rows gained a column, and which machine (CPU or GPU) a run trained on."""

from __future__ import annotations

import csv

from cifar_edge.files import write_csv
from cifar_edge.provenance import cpu_clock, describe_machine, stolen_share


def test_stolen_share_is_the_hypervisors_part_of_the_cpu_time_between_two_readings():
    assert stolen_share((100, 1000), (150, 1100)) == 0.5
    assert stolen_share((100, 1000), (100, 1400)) == 0.0
    assert stolen_share(None, (1, 2)) is None and stolen_share((5, 10), (5, 10)) is None
    clock = cpu_clock()  # None only where /proc/stat is missing (not Linux)
    assert clock is None or 0 <= clock[0] <= clock[1]


def test_a_history_whose_later_rows_gained_a_column_keeps_every_column(tmp_path):
    # a run resumed under a newer cifar-edge: its first epochs were recorded without cpu_stolen
    write_csv(tmp_path / "history.csv", [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.5, "cpu_stolen": 0.4}])
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"epoch": "1", "loss": "2.0", "cpu_stolen": ""}, {"epoch": "2", "loss": "1.5", "cpu_stolen": "0.4"}]


def test_a_run_trained_on_a_gpu_names_the_gpu_before_its_host_cpu():
    host = {"cpu": "Intel(R) Xeon(R) Processor", "cpu_features": ["avx2", "amx_bf16"], "cpu_count": 16}
    assert describe_machine({**host, "accelerator": "NVIDIA H200"}) == \
        "NVIDIA H200 (host: Intel(R) Xeon(R) Processor (avx2, amx_bf16), 16 cores)"
    assert describe_machine({**host, "accelerator": "cpu"}) == describe_machine(host) == \
        "Intel(R) Xeon(R) Processor (avx2, amx_bf16), 16 cores"
