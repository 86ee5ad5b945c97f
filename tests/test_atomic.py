"""Directories that appear complete or not at all: a process killed mid-save leaves a staging folder
that the next save of the same directory removes; a live process's staging folder is left alone."""

import os
import signal
import subprocess
import sys
import threading
import time

from xadapt.atomic import STAGING, atomic_directory, exclusive


def _killed_mid_save(final) -> None:
    """A process that starts saving `final`, writes a file, and is killed with SIGKILL before it finishes."""
    code = ("import sys, time; from pathlib import Path; from xadapt.atomic import atomic_directory\n"
            "with atomic_directory(Path(sys.argv[1])) as staging:\n"
            "    (staging / 'weights').write_bytes(b'x' * 1000); print('saving', flush=True); time.sleep(60)\n")
    saver = subprocess.Popen([sys.executable, "-c", code, str(final)], stdout=subprocess.PIPE, text=True)
    assert saver.stdout.readline() == "saving\n"
    saver.send_signal(signal.SIGKILL)
    saver.wait(timeout=30)


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
