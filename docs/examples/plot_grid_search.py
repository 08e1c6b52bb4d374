"""
Tuning without target labels
============================

``GridSearchCV`` over a KMM pipeline with a domain-aware splitter and the
importance-weighted scorer; no target label is used.
"""

from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sktl import KMM, make_da_pipeline
from sktl.datasets import make_domain_shift
from sktl.metrics import ImportanceWeightedScorer
from sktl.model_selection import SourceTargetShuffleSplit
from sktl.utils import mask_target_labels

X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=1)
pipe = make_da_pipeline(StandardScaler(), KMM(LogisticRegression(), random_state=0))
with config_context(enable_metadata_routing=True):
    search = GridSearchCV(pipe, {"kmm__gamma": [0.01, 0.1, 1.0]},
                          cv=SourceTargetShuffleSplit(n_splits=3, random_state=0),
                          scoring=ImportanceWeightedScorer())
    search.fit(X, mask_target_labels(y, sd), sample_domain=sd)
print("chosen:", search.best_params_)
print("target accuracy:", round(search.best_estimator_.score(X[sd < 0], y[sd < 0]), 3))
