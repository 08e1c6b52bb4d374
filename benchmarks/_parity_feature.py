"""Feature-based and self-labelling methods: CORAL (both modes), subspace alignment, TCA,
JDA, TJM, TSL, MMD feature selection (ADAPT's fMMD) and DASVM next to skada's and ADAPT's
(JDA has no peer). sktl's
``n_components`` defaults are capped at the number of features (skada's generator has
two)."""

from _parity import AdaptModel, Comparison


def _da(transformer, base):
    from sktl.pipeline import make_da_pipeline

    return make_da_pipeline(transformer, base)


class _Capped:
    """Build an sktl transformer at fit time, capping ``n_components`` at the features."""

    def __init__(self, make, base, default):
        self.make, self.base, self.default = make, base, default

    def fit(self, X, y, sample_domain):
        from sktl.pipeline import make_da_pipeline

        self.model_ = make_da_pipeline(self.make(min(self.default, X.shape[1])), self.base)
        self.model_.fit(X, y, sample_domain=sample_domain)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def _sktl_coral(align_means):
    def make(task, base, **kw):
        from sktl import CORAL

        return _da(CORAL(align_means=align_means, **kw), base)

    return make


def _skada_coral(task, base, **kw):
    import skada

    return skada.CORAL(base, **kw)


def _adapt_coral(task, base, **kw):
    from adapt.feature_based import CORAL

    return AdaptModel(CORAL, base, **kw)


def _sktl_sa(task, base, **kw):
    from sktl import SubspaceAlignment

    if "n_components" in kw:
        return _da(SubspaceAlignment(**kw), base)
    return _Capped(lambda k: SubspaceAlignment(k), base, 10)


def _skada_sa(task, base, **kw):
    import skada

    return skada.SubspaceAlignment(base, **kw)


def _adapt_sa(task, base, **kw):
    from adapt.feature_based import SA

    return AdaptModel(SA, base, **kw)


def _sktl_tca(task, base, **kw):
    from sktl import TCA

    if "n_components" in kw:
        return _da(TCA(random_state=0, **kw), base)
    return _Capped(lambda k: TCA(k, random_state=0, **kw), base, 10)


def _skada_tca(task, base, **kw):
    import skada

    return skada.TransferComponentAnalysis(base, **kw)


def _adapt_tca(task, base, **kw):
    from adapt.feature_based import TCA

    return AdaptModel(TCA, base, **kw)


def _sktl_jda(task, base, **kw):
    from sktl import JDA

    return _Capped(lambda k: JDA(k, random_state=0, **kw), base, 10)


def _sktl_tjm(task, base, **kw):
    from sktl import TJM

    return _Capped(lambda k: TJM(k, random_state=0, **kw), base, 10)


def _skada_tjm(task, base, **kw):
    import skada

    return skada.TransferJointMatching(base, **kw)


def _sktl_tsl(task, base, **kw):
    from sktl import TSL

    if "n_components" in kw:
        return _da(TSL(**kw), base)
    return _Capped(lambda k: TSL(k, **kw), base, 10)


def _skada_tsl(task, base, **kw):
    import skada

    return skada.TransferSubspaceLearning(base, **kw)


def _sktl_dasvm(task, base, **kw):
    from sktl import DASVMClassifier

    return DASVMClassifier(base, **kw)


def _skada_dasvm(task, base, **kw):
    import skada

    return skada.DASVMClassifier(base_estimator=base, **kw)


def _sktl_fmmd(task, base, **kw):
    from sktl import MMDFeatureSelector

    return _da(MMDFeatureSelector(random_state=0, **kw), base)


def _adapt_fmmd(task, base, **kw):
    from adapt.feature_based import fMMD
    from cvxopt import solvers

    solvers.options["show_progress"] = False
    return AdaptModel(fMMD, base, **kw)


_REG = [0.01, 1.0]

COMPARISONS = [
    Comparison("CORAL (align_means=True)", _sktl_coral(True),
               {"skada": _skada_coral, "ADAPT": _adapt_coral},
               kinds=("classification", "regression"),
               grid=[{"sktl": {"reg": r}, "skada": {"reg": min(r, 1.0)}, "ADAPT": {"lambda_": r}}
                     for r in _REG]),
    Comparison("CORAL (align_means=False)", _sktl_coral(False),
               {"skada": _skada_coral, "ADAPT": _adapt_coral},
               kinds=("classification", "regression"),
               grid=[{"sktl": {"reg": r}, "skada": {"reg": min(r, 1.0)}, "ADAPT": {"lambda_": r}}
                     for r in _REG]),
    Comparison("SubspaceAlignment", _sktl_sa, {"skada": _skada_sa, "ADAPT": _adapt_sa},
               grid=[{"sktl": {"n_components": 1}, "skada": {"n_components": 1},
                      "ADAPT": {"n_components": 1}}]),
    Comparison("TCA", _sktl_tca, {"skada": _skada_tca, "ADAPT": _adapt_tca},
               grid=[{"sktl": {"mu": m, "kernel": "rbf"}, "skada": {"mu": m, "kernel": "rbf"},
                      "ADAPT": {"mu": m, "kernel": "rbf"}} for m in (0.1, 1.0)]),
    Comparison("JDA (no peer)", _sktl_jda, {}, kinds=("classification",)),
    Comparison("TJM", _sktl_tjm, {"skada": _skada_tjm},
               grid=[{"sktl": {"kernel": "rbf", "mu": m}, "skada": {"kernel": "rbf", "tradeoff": m}}
                     for m in (0.01, 1.0)]),
    Comparison("TSL", _sktl_tsl, {"skada": _skada_tsl},
               grid=[{"sktl": {"n_components": 1, "mu": m},
                      "skada": {"n_components": 1, "mu": m}} for m in (0.1, 10.0)]),
    Comparison("MMDFeatureSelector", _sktl_fmmd, {"ADAPT": _adapt_fmmd},
               kinds=("classification", "regression"),
               grid=[{"sktl": {"kernel": "rbf", "gamma": 1.0},
                      "ADAPT": {"kernel": "rbf", "gamma": 1.0}}]),
    Comparison("DASVMClassifier", _sktl_dasvm, {"skada": _skada_dasvm},
               grid=[{"sktl": {"n_per_step": k}, "skada": {"k": k}} for k in (3, 10)]),
]
