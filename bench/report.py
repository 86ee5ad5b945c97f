"""Turn raw repetitions into medians and ratios, check the targets, and write the JSON and Markdown results."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.cases import Case, side_precision
from bench.flops import Shape


def _has_amx(summary: dict) -> bool:
    return "AMX" in summary["machine"].get("isa", [])


# targets that only a machine with the named capability can meet: (what it needs, whether this one has it)
NEEDS = {"AMX": _has_amx}
# (what, threshold, how the measured value is read from the summary[, the capability it needs]); ratios are xadapt / peer
TARGETS = (
    ("language-adapter MLM training vs adapters (full vocabulary)", 4.0, ">=", lambda s: s["cases"]["mlm"]["ratio"]),
    ("language-adapter MLM training vs adapters (corpus vocabulary)", 4.0, ">=",
     lambda s: s["cases"]["mlm"]["ratios"]["xadapt corpus-vocab"]),
    ("task adapter, identical padding, vs adapters", 1.0, ">=", lambda s: s["cases"]["task_fixed"]["ratio"]),
    ("task adapter, each tool's default pipeline, vs adapters", 1.5, ">=", lambda s: s["cases"]["task_pipeline"]["ratio"]),
    ("LoRA vs PEFT", 1.0, ">=", lambda s: s["cases"]["lora"]["ratio"]),
    ("full fine-tuning vs plain transformers", 1.0, ">=", lambda s: s["cases"]["finetune"]["ratio"]),
    ("language-adapter training, share of matmul peak (useful FLOPs)", 0.40, ">=",
     lambda s: s["cases"]["mlm"]["tools"]["xadapt"]["peak_fraction"]),
    ("task-adapter training (xadapt pipeline), share of matmul peak (useful FLOPs)", 0.40, ">=",
     lambda s: s["cases"]["task_pipeline"]["tools"]["xadapt"]["peak_fraction"]),
    # against full fine-tuning as usually run (dense AdamW over every weight): xadapt's own fine-tuning
    # trains only the used word-embedding rows and needs about half that memory (its row in the table)
    ("task-adapter peak RSS (xadapt) / full fine-tuning peak RSS (Trainer)", 0.5, "<=",
     lambda s: s["cases"]["task_fixed"]["tools"]["xadapt"]["peak_rss_mib"] / s["cases"]["finetune"]["tools"]["transformers"]["peak_rss_mib"]),
    ("reduced sweep, warm / cold wall time", 0.7, "<=", lambda s: s["sweep"]["ratio"]),
    *((f"bf16 / fp32 training throughput (xadapt), {what}", 1.6, ">=",
       lambda s, case=case: s["cases"][case]["bf16_speedups"]["xadapt"], "AMX")
      for what, case in (("masked-LM", "precision_mlm"), ("task adapter", "precision_adapter"), ("full fine-tuning", "precision_finetune"))),
    ("bf16 language-adapter training, share of the bf16 matmul peak (useful FLOPs)", 0.40, ">=",
     lambda s: s["cases"]["precision_mlm"]["tools"]["xadapt bf16"]["peak_fraction"]),
    ("bf16 task-adapter training (xadapt pipeline), share of the bf16 matmul peak (useful FLOPs)", 0.40, ">=",
     lambda s: s["cases"]["task_pipeline"]["tools"]["xadapt bf16"]["peak_fraction"]),
    ("bf16 - fp32 paired score difference / seed standard deviation (largest over cells)", 1.0, "<=",
     lambda s: s["precision_grid"]["largest_noise_ratio"]),
    ("reduced sweep, 2 workers vs 1 (warm caches), wall-time speed-up", 1.2, ">=", lambda s: s["workers"]["speedup"]),
)


def summarise_tool(case: Case, tool: str, raw: dict, shape: Shape, peak: float) -> dict:
    """Medians over repetitions of one side's throughput, FLOP/s and memory."""
    reps = raw["reps"]
    vocabulary = raw["info"].get("output_vocabulary")
    flops = [case.flops.count(shape, rep, tool in case.logits_everywhere, vocabulary) for rep in reps]

    def median(values) -> float:
        return statistics.median(values)

    useful = median(f["useful"] / rep["seconds"] for f, rep in zip(flops, reps))
    executed = median(f["executed"] / rep["seconds"] for f, rep in zip(flops, reps))
    return {
        "seconds": [rep["seconds"] for rep in reps],
        "examples_per_s": median(rep["examples"] / rep["seconds"] for rep in reps),
        "tokens_per_s": median(rep["tokens"] / rep["seconds"] for rep in reps),
        "padded_tokens_per_s": median(rep["padded_tokens"] / rep["seconds"] for rep in reps),
        "useful_flops_per_s": useful,
        "executed_flops_per_s": executed,
        "peak_fraction": useful / peak,
        "executed_peak_fraction": executed / peak,
        "peak_rss_mib": max(rep["peak_rss_mib"] for rep in reps),
        "info": {k: v for k, v in raw["info"].items() if k != "event"},
        "reps": reps,
    }


def summarise_case(case: Case, raw: dict[str, dict], shape: Shape, peaks: dict[str, float]) -> dict:
    """Each side's summary against the matmul peak of its own precision; ratios to the peer; bf16 / fp32 per tool."""
    precision = {side.tool: side_precision(side) for side in case.sides()}
    tools = {tool: summarise_tool(case, tool, result, shape, peaks[precision[tool]]) for tool, result in raw.items()}
    peer = case.peer.tool
    ratios = {tool: row["examples_per_s"] / tools[peer]["examples_per_s"] for tool, row in tools.items() if tool != peer}
    speedups = {tool: tools[f"{tool} bf16"]["examples_per_s"] / row["examples_per_s"] for tool, row in tools.items()
                if f"{tool} bf16" in tools}
    return {
        "title": case.title, "kind": case.kind, "peer": peer, "notes": case.notes, "settings": case.settings(),
        "ratio": ratios["xadapt"], "ratios": ratios, "tools": tools, "precisions": precision, "bf16_speedups": speedups,
    }


def check_targets(summary: dict) -> list[dict]:
    """Each target with its measured value and whether it is met (None when its case did not run)."""
    checked = []
    for what, threshold, sense, read, *needs in TARGETS:
        try:
            value = read(summary)
        except KeyError:
            value = None
        met = None if value is None else (value >= threshold if sense == ">=" else value <= threshold)
        missing = [need for need in needs if not NEEDS[need](summary)]
        if missing:
            met = None  # measured, but this machine cannot meet it
        checked.append({"target": what, "threshold": f"{sense} {threshold:g}", "value": value, "met": met,
                        "needs": missing[0] if missing else None})
    return checked


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _study(settings: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in settings.items() if key not in ("task", "lang"))


def markdown(summary: dict) -> str:
    """The results as Markdown: throughput per case and tool, the sweep, and the targets."""
    machine = summary["machine"]
    lines = [
        f"Machine: {machine['cpu']} ({', '.join(machine.get('isa') or ['ISA unknown'])}), {machine['cores']} cores, "
        f"{machine['threads']} threads per side, torch {machine['torch']}; matmul peak "
        + ", ".join(f"{name} {peak / 1e9:.1f}" for name, peak in summary["peaks"].items()) + " GFLOP/s; "
        f"{summary['reps']} repetitions per case (medians), {summary['date']}.",
        "",
        "| case | tool | examples/s | tokens/s (real) | tokens/s (padded) | GFLOP/s (useful) | % of peak (useful / executed) "
        "| peak RSS MiB | xadapt / peer |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for case_id, case in summary["cases"].items():
        for tool, row in case["tools"].items():
            ratio = f"**{case['ratios'][tool]:.2f}x**" if tool in case["ratios"] else ""
            if tool in case.get("bf16_speedups", {}):
                ratio += f" (bf16 / fp32 {case['bf16_speedups'][tool]:.2f}x)"
            lines.append(
                f"| {case_id} | {tool} | {_number(row['examples_per_s'])} | {_number(row['tokens_per_s'])} "
                f"| {_number(row['padded_tokens_per_s'])} | {row['useful_flops_per_s'] / 1e9:.1f} "
                f"| {100 * row['peak_fraction']:.0f}% / {100 * row['executed_peak_fraction']:.0f}% "
                f"| {row['peak_rss_mib']:,.0f} | {ratio} |"
            )
    if "sweep" in summary:
        sweep = summary["sweep"]
        lines += [
            "",
            "| sweep (reduced grid) | cold s | warm s | warm / cold |",
            "|---|--:|--:|--:|",
            f"| `xadapt sweep`, {_study(sweep['study'])} | {sweep['cold_s']:.0f} | {sweep['warm_s']:.0f} | **{sweep['ratio']:.2f}** |",
        ]
    if "perplexity" in summary:
        cost = summary["perplexity"]
        lines += [
            "",
            f"| language adapter sw, {cost['settings']['steps']} steps | output vocabulary | held-out perplexity before "
            "| after | training s |",
            "|---|--:|--:|--:|--:|",
        ]
        for name in ("full", "corpus"):
            row = cost[name]
            lines.append(
                f"| {name} vocabulary | {row['output_vocabulary'] or 'all'} | {row['perplexity_before']:.1f} "
                f"| {row['perplexity_after']:.1f} | {row['seconds']:.0f} |"
            )
    if "workers" in summary:
        workers = summary["workers"]
        lines += [
            "",
            "| sweep (reduced grid, warm caches) | 1 worker s | 2 workers s | speed-up |",
            "|---|--:|--:|--:|",
            f"| `xadapt sweep --workers N`, {_study(workers['study'])} | {workers['seconds_by_workers']['1']:.0f} "
            f"| {workers['seconds_by_workers']['2']:.0f} | **{workers['speedup']:.2f}x** |",
        ]
    if "precision_grid" in summary:
        grid = summary["precision_grid"]
        lines += [
            "",
            f"| bf16 vs fp32, same grid ({_study(grid['study'])}) | seeds | fp32 mean | bf16 mean | bf16 - fp32 [95% CI] "
            "| seed sd (fp32) | verdict |",
            "|---|--:|--:|--:|--:|--:|:-:|",
        ]
        for cell in grid["cells"]:
            low, high = cell["interval"] or (float("nan"), float("nan"))
            lines.append(
                f"| {cell['method']} n={cell['samples']} {cell['train_lang']}→{cell['eval_lang']} | {cell['n']} "
                f"| {cell['fp32_mean']:.3f} | {cell['bf16_mean']:.3f} | {cell['difference']:+.3f} [{low:+.3f}, {high:+.3f}] "
                f"| {cell['seed_sd']:.3f} | {'within noise' if cell['within_noise'] else '**outside noise**'} |"
            )
        lines.append(f"\nFindings verdicts, fp32 vs bf16: {grid['verdicts_agree']} of {grid['verdicts']} agree.")
    studies = [(summary[key], key) for key in ("default_study", "default_study_warm") if key in summary]
    if studies:
        lines += ["", "| default study (`xadapt sweep --lang sw --samples 1000`) | cold min | warm min |", "|---|--:|--:|"]
        for study, key in studies:
            cold = f"{study['cold_s'] / 60:.1f}" if "cold_s" in study else "not run"
            lines.append(f"| {study['runs']} runs, {study['workers']} workers, precision {study['precision']} ({key}) "
                         f"| {cold} | {study['warm_s'] / 60:.1f} |")
    lines += ["", "| target | required | measured | met |", "|---|--:|--:|:-:|"]
    for target in summary["targets"]:
        value = "not run" if target["value"] is None else f"{target['value']:.2f}"
        met = {True: "yes", False: "**no**", None: "-"}[target["met"]]
        if target.get("needs"):
            met = f"n/a (no {target['needs']} here)"
        lines.append(f"| {target['target']} | {target['threshold']} | {value} | {met} |")
    return "\n".join(lines) + "\n"


def write(summary: dict, directory: Path) -> tuple[Path, Path]:
    """`<date>-<machine>.json` and `.md` in `directory` (`-quick` added for a --quick run)."""
    directory.mkdir(parents=True, exist_ok=True)
    quick = "-quick" if summary["scale"]["name"] == "quick" else ""
    stem = f"{summary['date']}-{summary['machine']['name']}{quick}"
    data, table = directory / f"{stem}.json", directory / f"{stem}.md"
    data.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    table.write_text(markdown(summary), encoding="utf-8")
    return data, table
