"""
Should I adapt? Letting the evidence decide
===========================================

:class:`~sktl.model_selection.AdaptationSearchCV` tries "no adaptation" (your
own model) and the sktl methods around it, and adopts a method only when a
label-free criterion says, with 99 % confidence (95 % in regression), that it
beats no adaptation and its target predictions are no outlier against the other
candidates' consensus; when several qualify, it takes the largest gain. Here it runs on two tasks
from the wine-quality data shipped with sktl (red and white wines measured
alike; the label is whether the taster's grade is good):

* predicting **good vs not good** of white wines from red ones, where it
  finds no method clearly better and **keeps no adaptation**;
* the same for red wines from white ones, where it **chooses a method**.

The target labels are hidden from the search; they are used at the end only
to show what each choice was worth.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktl.datasets import load_wine_quality
from sktl.model_selection import AdaptationSearchCV, no_adaptation
from sktl.utils import mask_target_labels


def subsample(X, y, sd, n, seed=0):
    """At most ``n`` rows per domain, to keep the example fast."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.choice(np.flatnonzero(sd == d), min(n, (sd == d).sum()),
                                      replace=False) for d in np.unique(sd)])
    return X[keep], y[keep], sd[keep]


tasks = {
    "good or not, red → white (classification)": ("red", "white", "classification",
                                                  LogisticRegression(max_iter=1000)),
    "good or not, white → red (classification)": ("white", "red", "classification",
                                                  LogisticRegression(max_iter=1000)),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, (title, (source, target, task, final)) in zip(axes, tasks.items()):
    X, y, sd = subsample(*load_wine_quality(source, target, task=task), n=400)
    y_masked = mask_target_labels(y, sd, task=task)  # the search never sees target labels
    search = AdaptationSearchCV(make_pipeline(StandardScaler(), final), random_state=0)
    search.fit(X, y_masked, sample_domain=sd)

    print(f"{title}: {search.decision_} -> {search.best_candidate_}")
    print("  ", search.reason_)
    report = search.decision_report_
    print(report[["candidate", "gain", "gain s.e.", "verdict", "chosen"]]
          .round(4).to_string(index=False))

    # the decisive evidence: each candidate's estimated gain with its 99 % lower bound
    z = 2.326
    gain, se = report["gain"].to_numpy(), report["gain s.e."].to_numpy()
    colors = ["tab:green" if c else "tab:gray" for c in report["chosen"]]
    ax.barh(report["candidate"], gain, xerr=z * se, color=colors, alpha=0.8)
    ax.axvline(0, color="k", lw=0.8)
    ax.invert_yaxis()
    ax.set_title(f"{title}\n{search.decision_}: {search.best_candidate_}", fontsize=10)
    ax.set_xlabel("circular-validation gain over no adaptation (± 99 % bound)")

    # what it was worth, with the labels the search never saw
    new = sd < 0
    baseline = no_adaptation(search.estimator).fit(X, y_masked)
    metric = "accuracy" if task == "classification" else "R²"
    print(f"   target {metric}: pick {search.score(X[new], y[new]):.3f}, "
          f"no adaptation {baseline.score(X[new], y[new]):.3f}\n")
fig.tight_layout()
plt.show()
