"""Domain losses: each deep method is one of these added to the task loss."""

import torch
from torch.nn import functional as F


def _bandwidth(d2, n):
    """Mean pairwise squared distance: the DAN papers' base bandwidth."""
    return d2.detach().sum() / max(n * n - n, 1)


def gaussian_kernels(x, y, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    """Sum of Gaussian kernels with bandwidths ``base * kernel_mul ** (i - kernel_num // 2)``.

    The multi-kernel family of DAN (Long et al., 2015), centred on the mean
    pairwise distance of the batch. Returns the kernel matrix of ``[x; y]``.
    """
    z = torch.cat([x, y], dim=0)
    d2 = torch.cdist(z, z).pow(2)
    base = fix_sigma if fix_sigma is not None else _bandwidth(d2, len(z))
    base = torch.clamp(torch.as_tensor(base, dtype=z.dtype, device=z.device), min=1e-8)
    base = base / (kernel_mul ** (kernel_num // 2))
    return sum(torch.exp(-d2 / (base * kernel_mul**i)) for i in range(kernel_num))


def mmd_loss(source, target, *, kernel_mul=2.0, kernel_num=5, linear=False):
    """Multi-kernel MMD² between source and target features (DAN).

    With ``linear=True``, the linear-time unbiased estimator of Gretton et
    al. (2012) over pairs of rows, which is O(batch) instead of O(batch²).
    """
    if linear:
        m = min(len(source), len(target)) // 2 * 2
        if m < 2:
            return source.sum() * 0.0
        s1, s2, t1, t2 = source[0:m:2], source[1:m:2], target[0:m:2], target[1:m:2]

        def k(a, b):
            d2 = (a - b).pow(2).sum(1)
            base = torch.clamp(d2.detach().mean(), min=1e-8) / (kernel_mul ** (kernel_num // 2))
            return sum(torch.exp(-d2 / (base * kernel_mul**i)) for i in range(kernel_num))

        return (k(s1, s2) + k(t1, t2) - k(s1, t2) - k(s2, t1)).mean()
    n = len(source)
    K = gaussian_kernels(source, target, kernel_mul, kernel_num)
    return K[:n, :n].mean() + K[n:, n:].mean() - 2 * K[:n, n:].mean()


def joint_mmd_loss(source_list, target_list, *, kernel_mul=2.0, kernel_num=5,
                   last_sigma=1.68):
    """Joint MMD over several layers (JAN): the product of their kernels.

    The last layer (the softmax predictions) gets one Gaussian kernel of fixed
    bandwidth ``last_sigma`` as in the JAN paper; the others the multi-kernel
    family.
    """
    n = len(source_list[0])
    K = None
    for i, (s, t) in enumerate(zip(source_list, target_list)):
        if i == len(source_list) - 1 and last_sigma is not None:
            k = gaussian_kernels(s, t, 1.0, 1, fix_sigma=last_sigma)
        else:
            k = gaussian_kernels(s, t, kernel_mul, kernel_num)
        K = k if K is None else K * k
    return K[:n, :n].mean() + K[n:, n:].mean() - 2 * K[:n, n:].mean()


def coral_loss(source, target):
    """``||C_s - C_t||_F^2 / (4 d^2)`` between feature covariances (Deep CORAL)."""
    d = source.shape[1]

    def cov(x):
        x = x - x.mean(0, keepdim=True)
        return x.T @ x / max(len(x) - 1, 1)

    return (cov(source) - cov(target)).pow(2).sum() / (4 * d * d)


def entropy(probs, eps=1e-8):
    """Shannon entropy of each row of a probability matrix."""
    return -(probs * torch.log(probs + eps)).sum(1)


def mcc_loss(logits, temperature=2.5):
    """Minimum class confusion (Jin et al., 2020) of a batch of target logits.

    The temperature-scaled predictions ``P`` give a class correlation matrix
    ``C = P^T diag(w) P``, the rows weighted by ``w ∝ 1 + exp(-H(p))`` (more
    certain rows count more, mean weight 1). Each column is normalised to sum
    to one and the off-diagonal mass, averaged over the ``K`` classes, is the
    confusion to minimise.
    """
    probs = torch.softmax(logits / temperature, dim=1)
    w = 1.0 + torch.exp(-entropy(probs.detach()))
    w = len(probs) * w / w.sum()
    conf = (probs * w[:, None]).T @ probs
    conf = conf / conf.sum(dim=0, keepdim=True).clamp(min=1e-12)
    return (conf.sum() - conf.trace()) / len(conf)


def mdd_loss(adv_source, adv_target, pred_source, pred_target, margin=4.0):
    """Margin disparity discrepancy (Zhang et al., 2019), from the adversary's side.

    The adversarial head agrees with the main head's labels on the source
    (cross-entropy, weighted by the margin ``gamma``) and disagrees on the
    target (``-log(1 - p'(y_main))``); minimising this trains the adversary,
    and the features, behind a gradient reversal, shrink the disparity.
    """
    ys, yt = pred_source.argmax(1).detach(), pred_target.argmax(1).detach()
    agree = F.cross_entropy(adv_source, ys)
    p_t = torch.softmax(adv_target, dim=1).gather(1, yt[:, None]).squeeze(1)
    disagree = -torch.log(torch.clamp(1.0 - p_t, min=1e-15)).mean()
    return margin * agree + disagree


def contrastive_domain_discrepancy(source, target, y_source, y_target, n_classes, *,
                                   kernel_mul=2.0, kernel_num=5):
    """CDD of the contrastive adaptation network (Kang et al., 2019).

    Multi-kernel MMD between each source class and each target cluster
    (``y_target`` holds cluster labels, -1 for rows left out): the mean
    intra-class discrepancy minus the mean inter-class discrepancy, over
    the classes present on both sides. Zero when fewer than one class is shared.
    """
    keep_s, keep_t = y_source >= 0, y_target >= 0
    S = F.one_hot(y_source.clamp(min=0), n_classes).to(source.dtype) * keep_s[:, None]
    T = F.one_hot(y_target.clamp(min=0), n_classes).to(target.dtype) * keep_t[:, None]
    cs, ct = S.sum(0), T.sum(0)
    present = (cs > 0) & (ct > 0)
    S, T = S / cs.clamp(min=1), T / ct.clamp(min=1)
    n = len(source)
    K = gaussian_kernels(source, target, kernel_mul, kernel_num)
    kss = (S.T @ K[:n, :n] @ S).diagonal()
    ktt = (T.T @ K[n:, n:] @ T).diagonal()
    D = kss[:, None] + ktt[None, :] - 2 * (S.T @ K[:n, n:] @ T)
    m = present.to(D.dtype)
    n_present = m.sum()
    intra = (D.diagonal() * m).sum() / n_present.clamp(min=1)
    pairs = m[:, None] * m[None, :] * (1 - torch.eye(n_classes, device=D.device, dtype=D.dtype))
    inter = (D * pairs).sum() / pairs.sum().clamp(min=1)
    return intra - inter


def _normalised_laplacian(z, bandwidth):
    """``I - D^-1/2 A D^-1/2`` of the Gaussian affinity graph on the rows of ``z``."""
    A = torch.exp(-torch.cdist(z, z).pow(2) / bandwidth)
    d = A.sum(1).rsqrt()
    return torch.eye(len(z), device=z.device, dtype=z.dtype) - d[:, None] * A * d[None, :]


def spectral_alignment_loss(source, target):
    """Graph spectral alignment (Xiao et al., 2023): distance between Laplacian spectra.

    Each domain's batch is a graph (Gaussian affinities, normalised
    Laplacian); the loss is the Euclidean distance between the sorted
    eigenvalues (the smaller batch's count of them). Both graphs use one
    bandwidth, the source batch's mean squared distance, so the target
    cannot match the source's spectrum by shrinking its features.
    """
    d2 = torch.cdist(source, source).pow(2)
    bandwidth = _bandwidth(d2, len(source)).clamp(min=1e-8)
    ev_s = torch.linalg.eigvalsh(_normalised_laplacian(source, bandwidth))
    ev_t = torch.linalg.eigvalsh(_normalised_laplacian(target, bandwidth))
    k = min(len(ev_s), len(ev_t))
    return torch.linalg.vector_norm(ev_s[:k] - ev_t[:k])


def gradient_penalty(critic, source, target, generator=None):
    """WGAN-GP penalty ``E[(||grad critic(h)|| - 1)^2]`` on source/target interpolates."""
    k = min(len(source), len(target))
    eps = torch.rand((k, 1), device=source.device, dtype=source.dtype, generator=generator)
    h = (eps * source[:k] + (1 - eps) * target[:k]).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(h).sum(), h, create_graph=True)
    return (grad.norm(2, dim=1) - 1).pow(2).mean()


def transport_plan(cost):
    """Exact optimal transport plan between uniform weights for a cost matrix.

    Equal sizes: an optimal assignment (SciPy's Hungarian solver), the plan
    being a permutation divided by ``n``. Otherwise POT's network simplex
    when installed, else the linear programme solved by SciPy's HiGHS.
    """
    import numpy as np

    c = cost.detach().double().cpu().numpy()
    n, m = c.shape
    if n == m:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(c)
        plan = np.zeros((n, m))
        plan[rows, cols] = 1.0 / n
    else:
        try:
            import ot

            plan = ot.emd(np.full(n, 1.0 / n), np.full(m, 1.0 / m), c)
        except ImportError:
            from scipy.optimize import linprog
            from scipy.sparse import eye, kron, vstack

            rows_sum = kron(eye(n), np.ones((1, m)))
            cols_sum = kron(np.ones((1, n)), eye(m))
            res = linprog(c.ravel(), A_eq=vstack([rows_sum, cols_sum]).tocsr(),
                          b_eq=np.r_[np.full(n, 1.0 / n), np.full(m, 1.0 / m)],
                          bounds=(0, None), method="highs")
            plan = res.x.reshape(n, m)
    return torch.as_tensor(plan, dtype=cost.dtype, device=cost.device)


def weighted_mmd_loss(source, target, weights, sigma):
    """MMD² between the ``weights``-weighted source rows and the target rows.

    One Gaussian kernel ``exp(-||x - x'||² / (2 sigma²))``; ``weights`` (one
    per source row, mean one) reweight the source's kernel mean embedding
    (IWN, de Mathelin et al., 2022).
    """
    z = torch.cat([source, target])
    K = torch.exp(-torch.cdist(z, z).pow(2) / (2 * sigma**2))
    a = torch.cat([weights / len(source),
                   -torch.ones(len(target), dtype=z.dtype, device=z.device) / len(target)])
    return a @ K @ a
