#!/usr/bin/env python3
"""Writes Tests/GemmaClassifyTests/Fixtures/sklearn-logreg.json: small fixed problems and the
coefficients scikit-learn's LogisticRegression finds for them (the default L2 penalty, lbfgs,
run to a tight tolerance), for the trainer's exactness test.

Usage:  scripts/make-classify-fixture.py      (uses .venv-reference, made by classify-reference.py)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_PYTHON = os.path.join(ROOT, ".venv-reference", "bin", "python")
OUT = os.path.join(ROOT, "Tests", "GemmaClassifyTests", "Fixtures", "sklearn-logreg.json")

if os.environ.get("CLASSIFY_FIXTURE_IN_VENV") != "1":
    if not os.path.exists(VENV_PYTHON):
        sys.exit("no .venv-reference: run scripts/classify-reference.py once first (it makes it)")
    os.execve(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:],
              dict(os.environ, CLASSIFY_FIXTURE_IN_VENV="1"))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def problem(name, seed, n, d, k, c):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    labels = np.arange(n) % k
    x = centres[labels] + 1.5 * rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = np.round(x, 6)
    model = LogisticRegression(C=c, tol=1e-12, max_iter=100000).fit(x, labels)
    coef, intercept = model.coef_, model.intercept_
    if k == 2:
        # One binary row w: the trainer returns it as -w/2, w/2.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    else:
        intercept = intercept - intercept.mean()
    return {
        "name": name, "c": c, "classes": k,
        "features": x.tolist(), "labels": labels.tolist(),
        "weights": coef.tolist(), "bias": intercept.tolist(),
        "probabilities": model.predict_proba(x).tolist(),
    }


fixture = {
    "made_by": f"scikit-learn {sklearn.__version__} LogisticRegression(C, tol=1e-12, max_iter=100000)",
    "problems": [
        problem("three classes", 0, 30, 6, 3, 1.0),
        problem("five classes, C=10", 1, 40, 8, 5, 10.0),
        problem("two classes (binary model)", 2, 20, 4, 2, 1.0),
    ],
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(fixture, f, indent=1)
print(f"wrote {OUT}")
