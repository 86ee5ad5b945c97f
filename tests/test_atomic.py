"""Directories that appear complete or not at all: a process killed mid-save leaves a staging folder
that the next save of the same directory removes; a live process's staging folder is left alone."""

import os
import signal
import subprocess
import sys
import threading
import time

from xadapt.atomic import STAGING, atomic_directory, atomic_file, exclusive


def _killed_mid_save(final, saver: str = "atomic_directory", write: str = "(staging / 'weights').write_bytes(b'x' * 1000)") -> None:
    """A process that starts saving `final` with `xadapt.atomic.<saver>`, runs `write` on its staging path, and is
    killed with SIGKILL before it finishes."""
    code = (f"import sys, time; from pathlib import Path; from xadapt.atomic import {saver}\n"
            f"with {saver}(Path(sys.argv[1])) as staging:\n"
            f"    {write}; print('saving', flush=True); time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(final)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "saving\n"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_staging_folder_left_by_a_killed_save_goes_with_the_next_save(tmp_path):
    final = tmp_path / "adapter"
    _killed_mid_save(final)
    [left] = tmp_path.glob(f".adapter{STAGING}*")
    assert not final.exists() and (left / "weights").is_file()
    with atomic_directory(final) as staging:
        (staging / "weights").write_bytes(b"y")
    assert list(tmp_path.iterdir()) == [final] and (final / "weights").read_bytes() == b"y"


def test_a_live_processs_staging_folder_and_another_directorys_are_left_alone(tmp_path):
    mine = tmp_path / f".adapter{STAGING}{os.getpid()}-abc"
    other = tmp_path / f".adapter-bf16{STAGING}999999999-abc"  # another directory's name, and no such process
    for folder in (mine, other):
        folder.mkdir()
    with atomic_directory(tmp_path / "adapter"):
        pass
    assert mine.is_dir() and other.is_dir()


def test_a_file_a_killed_writer_left_half_written_goes_with_the_next_write(tmp_path):
    final = tmp_path / "report.md"
    _killed_mid_save(final, "atomic_file", "staging.write_text('half')")
    [left] = tmp_path.glob(".report.md.*.tmp")
    live = tmp_path / f".report.md.{os.getppid()}.tmp"  # a writer still at work (a live process) keeps its file
    live.write_text("mine")
    assert not final.exists()
    with atomic_file(final) as staging:
        staging.write_text("whole")
    assert final.read_text() == "whole" and not left.exists() and live.read_text() == "mine"


def test_exclusive_makes_a_second_builder_wait_for_the_first(tmp_path):
    final, order = tmp_path / "cache", []

    def build(name: str, hold: float) -> None:
        with exclusive(final):
            order.append(f"{name} in")
            time.sleep(hold)
            order.append(f"{name} out")

    first = threading.Thread(target=build, args=("first", 0.5))
    first.start()
    time.sleep(0.1)
    build("second", 0)
    first.join()
    assert order == ["first in", "first out", "second in", "second out"]
