#!/usr/bin/env python3
"""Reference implementation of the adjusted class-fraction estimators in numpy (issue 21).

ACC (Forman 2008): q = M π with M[p, t] = P(voted p | true t), π = solve(M, q), negatives clipped to
0, renormalised. PACC (Bella et al. 2010): the same with mean probabilities. Used by run.py to check
Cleave's values and run as a script to print the numbers the Swift tests compare against.

usage: reference.py            prints the fixed example of Tests/CleaveLearningTests/FractionEstimationTests.swift
"""
import numpy as np


def rates(sums_by_true_class):
    """K×K sums, row = true class → M with column t = true class, each column summing to 1."""
    s = np.asarray(sums_by_true_class, dtype=float)
    return (s / s.sum(axis=1, keepdims=True)).T


def adjust(q, m):
    x = np.linalg.solve(m, np.asarray(q, dtype=float))
    clipped = np.clip(x, 0, None)
    return clipped / clipped.sum(), x, -np.minimum(x, 0).sum()


def condition(m):
    return float(np.linalg.cond(m, 2))


def estimates(calibration, cc, pcc):
    """acc and pacc from a model.json calibration ({"classCount", "confusion", "posteriorSums"}) and
    the observed cc / pcc fractions (None where the condition number exceeds 10, as in Cleave)."""
    k = calibration["classCount"]
    out = {}
    for name, sums, q in (("acc", calibration["confusion"], cc), ("pacc", calibration["posteriorSums"], pcc)):
        m = rates(np.reshape(sums, (k, k)))
        out[name] = adjust(q, m)[0] if condition(m) <= 10 else None
    return out


def conditions(calibration):
    k = calibration["classCount"]
    return [condition(rates(np.reshape(calibration[key], (k, k)))) for key in ("confusion", "posteriorSums")]


if __name__ == "__main__":
    np.set_printoptions(precision=17)
    # A three-class example: confusion counts by true class (rows) and observed counted shares.
    confusion = [[80, 15, 5], [10, 85, 5], [4, 6, 90]]
    m = rates(confusion)
    q = [0.5, 0.3, 0.2]
    fractions, exact, clipped = adjust(q, m)
    print("M (column = true class):", m.tolist())
    print("acc exact:", exact.tolist(), "clipped:", fractions.tolist(), "clipped mass:", clipped)
    print("condition number:", condition(m))
    q2 = [0.05, 0.15, 0.8]
    fractions, exact, clipped = adjust(q2, m)
    print("acc with clipping, q =", q2, "exact:", exact.tolist(), "clipped:", fractions.tolist(), "clipped mass:", clipped)
