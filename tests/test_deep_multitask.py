"""MultiTaskClassifier / MultiTaskRegressor: a shared trunk, one head per task."""

import numpy as np
import pytest
import torch

pytest.importorskip("skorch")

from sktl.deep import MultiTaskClassifier, MultiTaskRegressor  # noqa: E402

FAST = {"max_epochs": 8, "random_state": 0, "module__hidden_units": (16,), "lr": 1e-2}


def related_tasks(sizes, n_test=400, d=20, seed=0):
    """Linear tasks ``y = [x w_t > 0]`` with ``w_t`` close to a shared ``w_0``."""
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=d)
    X, y, task, test = [], [], [], []
    for t, n in enumerate(sizes):
        w = w0 + 0.3 * rng.normal(size=d)
        Xt = rng.normal(size=(n + n_test, d))
        X.append(Xt)
        y.append((Xt @ w > 0).astype(int))
        task.append(np.full(n + n_test, t))
        test.append(np.r_[np.zeros(n, bool), np.ones(n_test, bool)])
    return np.vstack(X), np.concatenate(y), np.concatenate(task), np.concatenate(test)


def opposite_tasks(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, 3))
    task = np.repeat([0, 1], n)
    y = np.where(task == 0, X[:, 0] > 0, X[:, 0] < 0).astype(int)
    return X, y, task


def test_shapes_and_attributes():
    X, y, task = opposite_tasks(60)
    net = MultiTaskClassifier(**FAST).fit(X, y, sample_task=task)
    assert net.tasks_.tolist() == [0, 1]
    assert len(net.task_heads_) == 1
    assert net.predict_proba(X, sample_task=task).shape == (len(X), 2)
    assert net.predict(X[:5], sample_task=[1] * 5).shape == (5,)
    assert net.default_task_ is None
    reg = MultiTaskRegressor(**FAST).fit(X, X[:, 0] * (1 + task), sample_task=task)
    out = reg.predict(X, sample_task=task)
    assert out.shape == (len(X),) and out.dtype == float


def test_each_task_has_its_own_head():
    """Two tasks with opposite labels: one shared head could not fit both."""
    X, y, task = opposite_tasks()
    net = MultiTaskClassifier(**FAST).fit(X, y, sample_task=task)
    assert (net.predict(X, sample_task=task) == y).mean() > 0.9
    p0, p1 = net.predict(X, sample_task=[0] * len(X)), net.predict(X, sample_task=[1] * len(X))
    assert (p0 != p1).mean() > 0.8  # the heads disagree, as the tasks do
    net0 = MultiTaskClassifier(task=0, **FAST).fit(X, y, sample_task=task)
    np.testing.assert_array_equal(net0.predict(X), net0.predict(X, sample_task=[0] * len(X)))


def test_a_task_with_few_labels_gains_from_the_others():
    X, y, task, test = related_tasks([300, 300, 300, 20])
    train = ~test
    kw = {**FAST, "max_epochs": 20}
    multi = MultiTaskClassifier(**kw).fit(X[train], y[train], sample_task=task[train])
    small = train & (task == 3)
    # the same network on the small task alone
    single = MultiTaskClassifier(**kw).fit(X[small], y[small], sample_task=task[small])
    rows = test & (task == 3)
    acc_multi = (multi.predict(X[rows], sample_task=task[rows]) == y[rows]).mean()
    acc_single = (single.predict(X[rows]) == y[rows]).mean()
    assert acc_multi > acc_single + 0.1, (acc_multi, acc_single)


def test_tasks_default_to_the_domains():
    X, y, task = opposite_tasks(60)
    sd = np.where(task == 0, 1, -2)
    y_few = np.where((sd < 0) & (np.arange(len(y)) % 4 != 0), -1, y)  # a quarter labelled
    net = MultiTaskClassifier(**FAST).fit(X, y_few, sample_domain=sd)
    assert net.tasks_.tolist() == [-2, 1]
    assert net.default_task_ == -2  # the labelled target domain, as DA predicts for
    np.testing.assert_array_equal(net.predict(X), net.predict(X, sample_task=[-2] * len(X)))
    # an unlabelled target domain is no task: the source head predicts
    net = MultiTaskClassifier(**FAST).fit(X, np.where(sd < 0, -1, y), sample_domain=sd)
    assert net.tasks_.tolist() == [1] and net.default_task_ == 1


def test_task_weights():
    X, y, task = opposite_tasks(60)
    net = MultiTaskClassifier(task_weights={1: 0.0}, **FAST)
    net.fit(X, y, sample_task=task)
    # weight 0: task 1's rows give its head no gradient
    assert net.task_weights_.tolist() == [1.0, 0.0]
    Xb = torch.as_tensor(X[:40], dtype=torch.float32)
    yb = torch.as_tensor(np.column_stack([y[:40], task[:40]]))
    net.module_.zero_grad()
    net.task_heads_.zero_grad()
    net.get_loss(net.infer(Xb), yb, training=False).backward()
    assert all(p.grad is None or not p.grad.any() for p in net.task_heads_.parameters())
    balanced = MultiTaskClassifier(task_weights="balanced", **FAST)
    sizes = np.r_[np.zeros(90, int), np.ones(30, int)]
    balanced.fit(X[:120], y[:120], sample_task=sizes)
    np.testing.assert_allclose(balanced.task_weights_, [120 / (2 * 90), 120 / (2 * 30)])


@pytest.mark.parametrize("kwargs, fit_kw, match", [
    ({"task": 5}, {}, "Unknown tasks"),
    ({"task_weights": {7: 1.0}}, {}, "unknown tasks"),
    ({"task_weights": {0: -1.0}}, {}, "non-negative"),
    ({"task_weights": "equal"}, {}, "balanced"),
    ({}, {"sample_task": np.zeros(3)}, "one task per row"),
])
def test_fit_errors(kwargs, fit_kw, match):
    X, y, task = opposite_tasks(20)
    fit_kw = {"sample_task": task, **fit_kw}
    with pytest.raises(ValueError, match=match):
        MultiTaskClassifier(**{**FAST, "max_epochs": 1}, **kwargs).fit(X, y, **fit_kw)


def test_unlabelled_task_and_predict_errors():
    X, y, task = opposite_tasks(20)
    y_masked = np.where(task == 1, -1, y)
    with pytest.raises(ValueError, match=r"tasks \[1\] of sample_task have no labelled row"):
        MultiTaskClassifier(**{**FAST, "max_epochs": 1}).fit(X, y_masked, sample_task=task)
    net = MultiTaskClassifier(**{**FAST, "max_epochs": 1}).fit(X, y, sample_task=task)
    with pytest.raises(ValueError, match="pass sample_task"):
        net.predict(X)
    with pytest.raises(ValueError, match=r"Unknown tasks \[9\]"):
        net.predict(X[:2], sample_task=[0, 9])
    with pytest.raises(ValueError, match="sample_task has 1 entries"):
        net.predict_proba(X[:2], sample_task=[0])


def test_string_tasks_and_metadata_routing():
    from sklearn import config_context
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, task = opposite_tasks(60)
    names = np.where(task == 0, "books", "dvd")
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), MultiTaskClassifier(task="dvd", **FAST))
        pipe.fit(X, y, sample_task=names)
    net = pipe[-1]
    assert net.tasks_.tolist() == ["books", "dvd"]
    assert (pipe.predict(X[task == 1]) == y[task == 1]).mean() > 0.85
