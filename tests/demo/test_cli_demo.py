"""`xadapt demo` from the command line: the quickstart reused and served, the empty page, a missing gradio."""

import importlib.util

import gradio as gr
import httpx
from gradio_client import Client
from typer.testing import CliRunner

from xadapt.cli import app as cli
from xadapt.demo.app import serve
from xadapt.models import DEFAULT_MODEL, resolve_model


def test_quickstart_reuses_what_it_trained_and_serves_it(demo_env, monkeypatch, port):
    """The session's quickstart runs lie in the quickstart folder, so `--quickstart` trains nothing again."""
    answers = []

    def ask_then_stop(demo):  # instead of waiting for Ctrl+C
        client = Client(demo.local_url, verbose=False, analytics_enabled=False)
        answers.append(client.predict(demo_env.run["madx"], demo_env.language["sw"], "Rais alizuru Dodoma.", api_name="/ner"))
        demo.close()

    monkeypatch.setattr(gr.Blocks, "block_thread", ask_then_stop)
    trained = {path: path.stat().st_mtime_ns for path in demo_env.home.glob("quickstart/*/*/run.json")}
    assert len(trained) == 2
    result = CliRunner().invoke(cli, ["demo", "--quickstart", "--runs", str(demo_env.runs), "--model", demo_env.model,
                                      "--data-dir", str(demo_env.data), "--port", str(port)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "quickstart runs:" in output and f"demo: http://127.0.0.1:{port}/" in output
    assert "quickstart: training what the demo serves" in output  # without a terminal, progress comes as lines
    assert "loading the model and every adapter" in output
    assert {path: path.stat().st_mtime_ns for path in trained} == trained  # reused, not trained again
    assert len(answers) == 1 and answers[0][0]


def test_with_nothing_trained_the_page_says_how_to_make_it(real_data, tmp_path, monkeypatch, port):
    """Needs no trained parts (CI's compatibility stage runs it to launch each gradio release in the range)."""
    model = str(resolve_model(DEFAULT_MODEL))  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path / "empty_home"))
    demo = serve([tmp_path / "no_runs"], tmp_path / "no_adapters", model, port=port, data_dir=real_data)
    try:
        page = str(httpx.get(f"{demo.local_url}config").json())
    finally:
        demo.close()
    assert "No trained adapters yet" in page
    assert "xadapt demo --quickstart" in page
    assert "xadapt train --task wikiann --lang en --eval sw --method madx" in page


def test_without_gradio_the_command_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 1
    assert "pip install -e '.[demo]'" in " ".join(result.output.split())


def test_a_bad_host_a_taken_port_a_port_out_of_range_and_missing_folders_are_refused_before_anything_loads(monkeypatch):
    import socket

    import xadapt.demo.app as demo_app

    monkeypatch.setattr(demo_app, "serve", lambda *args: (_ for _ in ()).throw(AssertionError("the demo loaded")))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        used = taken.getsockname()[1]
        cases = [
            (["--host", "not a host!"], 1, "--host 'not a host!' is not an address or a name this machine can resolve"),
            (["--host", "203.0.113.9"], 1, "cannot serve on 203.0.113.9:any port"),  # TEST-NET-3: never this machine's
            (["--port", str(used)], 1, f"port {used} on 127.0.0.1 is already in use; choose another --port"),
            (["--port", "70000"], 2, "Input should be less than or equal to 65535"),
            (["--runs", "/nonexistent-runs"], 1, "--runs /nonexistent-runs does not exist; pass a folder where"),
            (["--adapters", __file__], 1, f"--adapters {__file__} is a file; pass a folder of language adapters"),
        ]
        for options, code, message in cases:
            result = CliRunner().invoke(cli, ["demo", *options])
            assert result.exit_code == code and message in " ".join(result.output.split()), result.output
            assert "Traceback" not in result.output
