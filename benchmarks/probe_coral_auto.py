"""Deep CORAL's ``reg="auto"`` on a development draw: its weight and the two losses per epoch.

Fits the benchmark's net (``bench_deep.run_sktl``) on the Office-Caltech
development pair amazon -> caltech (seed 10) with ``reg="auto"`` on the
features and on the class scores, and prints the target accuracy and, for a
few epochs, the weight, the task loss and the CORAL loss (each summed over
the epoch's batches); then the same ratio along a source-only fit (the
CORAL loss measured, weighted 0) on the moons and on that pair. Quoted in
``results/deep_defaults.md`` (round 3):

    OMP_NUM_THREADS=1 nice -n 19 env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/probe_coral_auto.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))


def main():
    from bench_deep import run_sktl
    from bench_deep_defaults import load2

    import sktl.deep._methods as methods

    torch.set_num_threads(1)
    seen = []
    on_epoch_end = methods._DeepCORAL.on_epoch_end

    def record(self, net, **kwargs):  # the sums before the next epoch resets them
        on_epoch_end(self, net, **kwargs)
        b = self._balance_
        seen.append((float(self.schedule()), float(b["task"]), float(b["domain"])))

    methods._DeepCORAL.on_epoch_end = record
    X, y, sd = load2("office_ac", 10)
    for kw in ({"reg": "auto"}, {"reg": "auto", "adapt_layers": ("head",)}):
        seen.clear()
        predict = run_sktl("Deep CORAL", X, y, sd, 10, None, **kw)
        t = sd < 0
        print(kw, "target accuracy", round(float((predict(X[t]) == y[t]).mean()), 3))
        for epoch in (0, 1, 2, 10, 30, len(seen) - 1):
            w, task, dom = seen[epoch]
            print(f"  epoch {epoch}: weight {w:.4g}, task loss {task:.3g}, CORAL loss {dom:.3g}, "
                  f"weighted {w * dom:.3g}")
    methods._DeepCORAL.schedule = lambda self: 0.0  # source only, the losses still summed
    for data in ("moons", "office_ac"):
        X, y, sd = load2(data, 10)
        for layers in (("features",), ("head",)):
            seen.clear()
            run_sktl("Deep CORAL", X, y, sd, 10, None, reg="auto", adapt_layers=layers)
            print(f"source only, {data}, {layers[0]}: task / CORAL loss at epochs 0, 5, 20, 49:",
                  ", ".join(f"{seen[e][1] / seen[e][2]:.3g}" for e in (0, 5, 20, 49)))


if __name__ == "__main__":
    main()
