"""Collect the methods of ``new_candidates`` method by method (most promising first).

    python benchmarks/_collect_new.py --dev [--methods A,B]   # run it under the lock

Incremental like ``bench_selection.py collect``: a killed run loses only the
candidate in progress.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._tasks import all_tasks, split_tasks  # noqa: E402
from benchmarks.bench_selection import collect, load_store, new_candidates  # noqa: E402

ORDER = ("CORAL means reg=1", "LabelShift EM", "LinearOTMapping", "uLSIF")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--confirm", action="store_true")
    parser.add_argument("--dev", action="store_true")
    parser.add_argument("--methods", default=",".join(ORDER))
    args = parser.parse_args()
    dev, confirm = split_tasks(all_tasks())
    tasks = confirm if args.confirm else dev
    for method in args.methods.split(","):
        for task in tasks:
            cands = {k: v for k, v in new_candidates(task.task).items() if k == method}
            store = load_store(task)
            if not cands or (store and method in store["candidates"]):
                continue
            collect(task, cands)


if __name__ == "__main__":
    main()
