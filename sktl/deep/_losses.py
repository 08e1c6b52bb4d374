"""Domain losses: each deep method is one of these added to the task loss."""

import torch


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
