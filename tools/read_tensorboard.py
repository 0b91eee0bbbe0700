"""Print the TensorBoard records of a qlab run directory in a stable text form.

Reads each seed_<k>/tb/ with the `tensorboard` package's own event reader
(EventAccumulator: every event file of the directory, in name order, with its purging of
events a resumed run wrote again), and prints, per seed:

    [seed_0]
    hparams
      agent.algorithm = "q_learning"
      agent.alpha = 0.5
      ...
    metrics eval/mean_return episode/return
    scalars episode/length
      13 13.0
      ...

Hyperparameters in key order (numbers as Python's repr of the double, text as JSON, booleans
as true/false); scalar tags in order, each event as `step value` (repr of the 32-bit value
widened to a double). Wall times are left out: they differ from run to run.

The committed tests/data/tensorboard/cliff.txt is this script's output for the run of
tests/data/tensorboard/cliff.toml (`qlab train tests/data/tensorboard/cliff.toml --out RUN`);
the Rust test `tensorboard::tests::events_read_back_as_the_tensorboard_package_reads_them`
decodes the event files itself and compares with it.

Usage: python tools/read_tensorboard.py RUN_DIR   (needs only `pip install tensorboard`)
"""

import json
import pathlib
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def show_value(v):
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        return repr(v.number_value)
    if kind == "string_value":
        return json.dumps(v.string_value, ensure_ascii=False)
    if kind == "bool_value":
        return "true" if v.bool_value else "false"
    return kind or "none"


def read_seed(tb_dir):
    acc = event_accumulator.EventAccumulator(
        str(tb_dir), size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    lines = []
    content = acc.PluginTagToContent("hparams")
    start = content.get("_hparams_/session_start_info")
    if start is not None:
        data = plugin_data_pb2.HParamsPluginData.FromString(start)
        lines.append("hparams")
        hparams = data.session_start_info.hparams
        for key in sorted(hparams):
            lines.append(f"  {key} = {show_value(hparams[key])}")
    experiment = content.get("_hparams_/experiment")
    if experiment is not None:
        data = plugin_data_pb2.HParamsPluginData.FromString(experiment)
        tags = [m.name.tag for m in data.experiment.metric_infos]
        lines.append("metrics " + " ".join(tags))
    end = content.get("_hparams_/session_end_info")
    if end is not None:
        data = plugin_data_pb2.HParamsPluginData.FromString(end)
        lines.append(f"status {data.session_end_info.status}")
    for tag in sorted(acc.Tags()["scalars"]):
        lines.append(f"scalars {tag}")
        for e in acc.Scalars(tag):
            lines.append(f"  {e.step} {e.value!r}")
    return lines


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_tensorboard.py RUN_DIR")
    run = pathlib.Path(sys.argv[1])
    seeds = sorted(
        (d for d in run.glob("seed_*") if (d / "tb").is_dir()),
        key=lambda d: int(d.name[len("seed_"):]),
    )
    if not seeds:
        sys.exit(f"{run}: no seed_<k>/tb/ here (train with [output] tensorboard = true)")
    out = []
    for d in seeds:
        out.append(f"[{d.name}]")
        out.extend(read_seed(d / "tb"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
