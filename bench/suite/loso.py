#!/usr/bin/env python3
"""Leave-one-set-out choice of a default over several suite runs.

usage: loso.py RUN.json [RUN.json …] [--columns a,b,…]

Each RUN.json is what `suite.py --json` writes ({"set split": {column: row}}). Columns with the same
name in several runs must be the same settings (the "cleave (defaults)" column is renamed to the
run's file name so runs made with different defaults do not mix). For every set, the variant the
*other* sets would choose (highest mean mIoU over their splits) and what it scores on the held-out
set, with its difference from the reference there. A default is a method when the others' choice
is the same whichever set is held out and it does not lose to the reference on the held-out set.
"""
import json, os, sys
import numpy as np


def main():
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    only = None
    if "--columns" in sys.argv:
        only = sys.argv[sys.argv.index("--columns") + 1].split(",")
    table = {}  # (set, split) -> column -> miou
    for path in files:
        run = json.load(open(path))
        tag = os.path.splitext(os.path.basename(path))[0]
        for key, row in run.items():
            for column, values in row.items():
                name = f"defaults@{tag}" if column == "cleave (defaults)" else column
                table.setdefault(key, {})[name] = values["miou"]
    keys = sorted(table)
    columns = sorted({c for row in table.values() for c in row if c != "reference"})
    columns = [c for c in columns if all(c in table[k] for k in keys)]
    if only:
        columns = [c for c in columns if c in only]
    sets = sorted({k.rsplit(" ", 1)[0] for k in keys})

    def mean(column, keep):
        return float(np.mean([table[k][column] for k in keys if keep(k)]))

    print("| variant | mean mIoU (all splits) | worst Δ vs reference |")
    print("|---|---|---|")
    for c in sorted(columns, key=lambda c: -mean(c, lambda k: True)):
        worst = min(table[k][c] - table[k]["reference"] for k in keys)
        print(f"| {c} | {mean(c, lambda k: True):.3f} | {worst:+.3f} |")
    print()
    def worst(column, keep):
        return min(table[k][column] - table[k]["reference"] for k in keys if keep(k))

    # Two rules for "the variant the other sets choose": the best mean, and the best worst case
    # (largest smallest margin over the reference on any of their splits, ties to the mean).
    print("| held-out set | by mean: chosen | mIoU there (Δ ref) | by worst case: chosen | mIoU there (Δ ref) | best there |")
    print("|---|---|---|---|---|---|")
    for held in sets:
        inside = lambda k: k.rsplit(" ", 1)[0] == held
        outside = lambda k: not inside(k)
        by_mean = max(columns, key=lambda c: mean(c, outside))
        by_worst = max(columns, key=lambda c: (round(worst(c, outside), 3), mean(c, outside)))
        ref = mean("reference", inside)
        best = max(columns, key=lambda c: mean(c, inside))
        cells = [f"{c} | {mean(c, inside):.3f} ({mean(c, inside) - ref:+.3f})" for c in (by_mean, by_worst)]
        print(f"| {held} | {cells[0]} | {cells[1]} | {best} ({mean(best, inside):.3f}) |")


if __name__ == "__main__":
    main()
