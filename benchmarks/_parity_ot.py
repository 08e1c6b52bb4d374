"""Optimal transport: sktl's mappings, JDOT, OT label propagation and JCPOT next to skada's
(ADAPT has none of them). Shared grids name the same regularisation in both libraries; the
entropic problems use a median-normalised cost in both."""

from _parity import Comparison


def _pipe(transformer, base):
    from sktl.pipeline import make_da_pipeline

    return make_da_pipeline(transformer, base)


def _sktl_map(name):
    def make(task, base, **kw):
        import sktl

        extra = {"random_state": 0} if name == "MMDLSConSMapping" else {}
        return _pipe(getattr(sktl, name)(**extra, **kw), base)

    return make


def _skada(name, **fixed):
    def make(task, base, **kw):
        import skada

        return getattr(skada, name)(base, **fixed, **kw)

    return make


class _TargetDomain:
    """A skada model whose ``predict`` is told the target's domain code.

    skada's multi-source linear Monge alignment keeps one map per domain and, without
    ``sample_domain`` at predict time, looks for domain -1 (the driver's target is -2, the
    moons' another code); sktl's infers the fitted target. Only ``fit`` is timed.
    """

    def __init__(self, model):
        self.model = model

    def fit(self, X, y, sample_domain):
        self.target_ = int(sample_domain[sample_domain < 0][0])
        self.model.fit(X, y, sample_domain=sample_domain)
        return self

    def predict(self, X):
        import numpy as np

        return self.model.predict(X, sample_domain=np.full(len(X), self.target_))


def _skada_mlma(task, base, **kw):
    import skada

    return _TargetDomain(skada.MultiLinearMongeAlignment(base, **kw))


def _sktl_est(name, **fixed):
    def make(task, base, **kw):
        import sktl

        return getattr(sktl, name)(base, **fixed, **kw)

    return make


def _skada_jdot(name):
    def make(task, base, **kw):
        import skada

        return getattr(skada, name)(base_estimator=base, **kw)

    return make


def _logistic(task):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _ridge(task):
    from sklearn.linear_model import Ridge

    return Ridge()


def _same(values, sktl_key, skada_key=None, **skada_fixed):
    return [{"sktl": {sktl_key: v}, "skada": {skada_key or sktl_key: v, **skada_fixed}}
            for v in values]


BOTH = ("classification", "regression")

COMPARISONS = [
    Comparison("OTMapping (exact)", _sktl_map("OTMapping"), {"skada": _skada("OTMapping")},
               kinds=BOTH),
    Comparison("EntropicOTMapping", _sktl_map("EntropicOTMapping"),
               {"skada": _skada("EntropicOTMapping")},
               grid=_same([0.1, 1.0], "reg_e", norm="median")),
    Comparison("ClassRegularizedOTMapping", _sktl_map("ClassRegularizedOTMapping"),
               {"skada": _skada("ClassRegularizerOTMapping")},
               grid=[{"sktl": {"reg_e": e, "reg_cl": c},
                      "skada": {"reg_e": e, "reg_cl": c, "norm": "lpl1"}}
                     for e, c in ((0.1, 1.0), (1.0, 0.1))]),
    Comparison("LinearOTMapping", _sktl_map("LinearOTMapping"),
               {"skada": _skada("LinearOTMapping")}, kinds=BOTH,
               grid=_same([1e-6, 1.0], "reg")),
    Comparison("MultiLinearMongeAlignment", _sktl_map("MultiLinearMongeAlignment"),
               {"skada": _skada_mlma},
               kinds=("classification", "multisource"), grid=_same([1e-6, 0.1], "reg")),
    Comparison("MMDLSConSMapping", _sktl_map("MMDLSConSMapping"),
               {"skada": _skada("MMDLSConSMapping")},
               grid=_same([0.1, 1.0], "gamma")),
    Comparison("JDOTClassifier", _sktl_est("JDOTClassifier"),
               {"skada": _skada_jdot("JDOTClassifier")}, base=_logistic,
               grid=[{"sktl": {"alpha": a}, "skada": {"alpha": 1 / (1 + a)}}
                     for a in (0.1, 10.0)]),
    Comparison("JDOTRegressor", _sktl_est("JDOTRegressor"),
               {"skada": _skada_jdot("JDOTRegressor")}, kinds=("regression",), base=_ridge,
               grid=[{"sktl": {"alpha": a}, "skada": {"alpha": 1 / (1 + a)}}
                     for a in (0.1, 10.0)]),
    # skada's default stops the exact solver after 200 network-simplex iterations (a plan
    # that is not optimal); the grid row gives it enough to reach the exact plan sktl solves
    Comparison("OTLabelPropagation", _sktl_est("OTLabelPropagation"),
               {"skada": _skada("OTLabelProp")}, kinds=BOTH,
               grid=[{"sktl": {}, "skada": {"n_iter_max": 100_000}}]),
    Comparison("JCPOT", _sktl_est("JCPOT"), {"skada": _skada("JCPOTLabelProp")},
               kinds=("classification", "multisource"),
               grid=_same([0.1, 1.0], "reg_e", "reg")),
]
