"""Block eigensolvers: the top of a symmetric operator, and of TCA's kernel problem."""

import numpy as np
from scipy import linalg

from ._array_api import (
    asarray,
    cast,
    device,
    eye,
    generalised_top,
    get_namespace,
    is_numpy,
    to_numpy,
    vector_norm,
)


def block_krylov_top(matmat, n, k, random_state, like=None, block=None, tol=1e-8,
                     max_dim=None, max_iter=200):
    """Top-``k`` eigenpairs of a symmetric operator by block Lanczos (block Krylov).

    The operator is only applied to blocks of ``block`` vectors (``matmat(Q)``
    with ``Q`` of shape ``(n, block)``), so each step is a matrix-matrix
    product, which runs at the machine's compute speed rather than at its
    memory bandwidth as one-vector Lanczos does. The Krylov basis is kept
    orthonormal (two rounds of classical Gram-Schmidt), Rayleigh-Ritz on the
    whole basis gives the Ritz pairs after every step, and the iteration stops
    when every one of the top ``k`` residuals ``||A x - theta x||`` is below
    ``tol`` times the largest Ritz value. When the basis reaches ``max_dim``
    columns it is restarted from the best Ritz vectors (thick restart).

    ``like`` is an array in the namespace and on the device to work in.
    Returns ``(eigenvalues, eigenvectors, n_iter, converged)``, largest first.
    """
    block = block or min(n, k + 10)
    max_dim = max_dim or min(n, max(6 * block, 4 * k + 2 * block))
    start = random_state.standard_normal((n, block))
    if like is not None:  # the namespace and device of the operator (array API)
        start = asarray(start, like)
    xp = get_namespace(start)
    Q = xp.linalg.qr(start)[0]
    basis, images = [Q], []
    theta = X = None
    for it in range(1, max_iter + 1):
        Z = matmat(basis[-1])
        images.append(Z)
        Qa, Aa = concat_cols(basis), concat_cols(images)
        T = Qa.T @ Aa
        theta, S = xp.linalg.eigh(0.5 * (T + T.T))
        theta, S = xp.flip(theta, axis=0), xp.flip(S, axis=1)
        X = Qa @ S[:, :k]
        R = Aa @ S[:, :k] - X * theta[:k]
        top = max(abs(float(theta[0])), np.finfo(float).tiny)
        if float(xp.max(vector_norm(R, axis=0))) <= tol * top:
            return theta[:k], X, it, True
        if Qa.shape[1] + block > max_dim:  # thick restart on the best Ritz vectors
            keep = min(Qa.shape[1], k + block)
            basis, images = [Qa @ S[:, :keep]], [Aa @ S[:, :keep]]
            Qa = basis[0]
            Z = R
        for _ in range(2):
            Z = Z - Qa @ (Qa.T @ Z)
        Qn, Rn = xp.linalg.qr(Z)
        # drop directions already in the basis (breakdown): the rest stays orthonormal
        diag = np.abs(np.diagonal(np.asarray(to_numpy(Rn))))
        keep = np.flatnonzero(diag > 1e-10 * max(diag.max(), 1e-300))
        if not len(keep):
            break
        basis.append(Qn if len(keep) == Qn.shape[1] else
                     xp.take(Qn, asarray(keep, Qn), axis=1))
    return theta[:k], X, max_iter, False


def concat_cols(blocks):
    xp = get_namespace(blocks[0])
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1)


def kernel_krylov_top(K, V, mu, k, random_state, tol=1e-9, block=None, max_dim=None,
                      max_iter=100):
    """Top-``k`` solutions of ``K H K w = theta (K V V' K + mu I) w`` (TCA's problem).

    Rayleigh-Ritz on the generalised problem over a block Krylov space of the
    symmetric ``K``: every step applies ``K`` once, to a new block of the
    orthonormal basis ``Q``, and the images ``Z = K Q`` give both projected
    matrices, ``Q' K H K Q = Z' H Z`` and ``Q' B Q = (V' Z)' (V' Z) + mu I``.
    A step costs one product of ``K`` with a block, where Lanczos on
    ``B^-1/2 K H K B^-1/2`` costs two. The start block holds the ones vector
    and ``V``, so ``H Z`` lies in the span of the next basis and ``K H K w``
    for the Ritz vectors ``w`` of a step is a combination of the next step's
    images: their residuals ``||B^-1/2 (K H K w - theta B w)||`` are checked
    one step late and without another product. The vectors returned are the
    checked ones (every residual below ``tol`` times the top eigenvalue).

    Mixed precision: a float64 ``K`` is first iterated as a float32 copy,
    whose products run two to three times faster, until that pass's
    residuals stop falling (about 1e-7); its Ritz vectors then start the
    float64 pass, which alone gives the answer and its check. When the basis
    would exceed ``max_dim`` columns it restarts from its Ritz vectors.

    Returns ``(eigenvalues, W, K W, converged)``, largest first, ``W' B W = I``.
    """
    xp = get_namespace(K)
    n = K.shape[0]
    V = cast(V, K)
    b = block or min(n, k + 10)
    max_dim = max_dim or min(n, 16 * b)
    ones = xp.ones((n, 1), dtype=K.dtype, device=device(K))
    cols = asarray(random_state.choice(n, b, replace=False), K)  # b kernel columns: smooth
    start = concat_cols([ones, V, xp.take(K, cols, axis=0).T])  # (K is symmetric)
    cap = max_dim + start.shape[1]
    Qb = xp.zeros((n, cap), dtype=K.dtype, device=device(K))  # basis and images, in place
    Zb = xp.zeros((n, cap), dtype=K.dtype, device=device(K))
    Gb = xp.zeros((cap, cap), dtype=K.dtype, device=device(K))

    def residual(theta, W, KW, m):  # max ||B^-1/2 r|| / theta_1; K H K w from the images
        theta, W, KW = theta[:k], W[:, :k], KW[:, :k]
        R = Zb[:, :m] @ (Qb[:, :m].T @ (KW - xp.mean(KW, axis=0))) - \
            theta * (U @ (U.T @ W) + mu * W)
        BR = (R - U @ xp.linalg.solve(core, U.T @ R)) / mu  # B^-1 R (Woodbury)
        top = max(abs(float(theta[0])), 1e-300)
        return max(float(xp.max(xp.sum(R * BR, axis=0))), 0.0) ** 0.5 / top

    def append(m, Qn, Kp):  # the block Qn and its images; the Gram matrix Z'Z grows
        Zn = cast(Kp @ cast(Qn, Kp), K)
        w = Qn.shape[1]
        Qb[:, m:m + w], Zb[:, m:m + w] = Qn, Zn
        Gb[:m + w, m:m + w] = Zb[:, :m + w].T @ Zn
        Gb[m:m + w, :m] = Gb[:m, m:m + w].T
        return m + w

    passes = [K]
    if K.dtype == xp.float64:
        passes.insert(0, K.astype(np.float32) if is_numpy(xp) else xp.astype(K, xp.float32))
    for Kp in passes:
        final = Kp is K
        Qn = _qr(start)[0]
        m, prev, res = 0, None, np.inf
        for it in range(max_iter):
            m, width = append(m, Qn, Kp), Qn.shape[1]
            Q, Z = Qb[:, :m], Zb[:, :m]
            if not it:  # V is in the start block: K V from its images, in this precision
                U = Z @ (Q.T @ V)
                core = mu * eye(V.shape[1], K) + U.T @ U
            s, UQ = xp.sum(Z, axis=0), U.T @ Q
            theta, C = generalised_top(Gb[:m, :m] - s[:, None] * s[None, :] / n,
                                       UQ.T @ UQ + mu * eye(m, K), min(b, m))
            ritz = (theta, Q @ C[:, :k], Z @ C[:, :k])
            if prev is not None:
                last, res = res, residual(*prev, m)
                if res <= tol or not final and (res <= 1e-7 or 0.5 * last < res <= 1e-5):
                    break  # converged, or the float32 pass is as good as it gets
            prev = ritz
            Qn = _extend(Q, Z[:, m - width:])
            if Qn is None:  # an invariant subspace: the current pairs are checked as they are
                res = residual(*prev, m)
                break
            if m + Qn.shape[1] > max_dim:  # thick restart on the Ritz vectors
                Cq = _qr(C)[0]
                Qr, Zr, Gr = Q @ Cq, Z @ Cq, Cq.T @ Gb[:m, :m] @ Cq
                m, C = Cq.shape[1], Cq.T @ C  # the Ritz vectors in the new basis
                Qb[:, :m], Zb[:, :m], Gb[:m, :m] = Qr, Zr, Gr
                prev, Qn = None, _extend(Qr, Zr)
                if Qn is None:
                    break
        start = concat_cols([ones, V, Qb[:, :m] @ C])  # the float64 pass starts there
    if prev is None:
        return ritz[0][:k], ritz[1][:, :k], ritz[2][:, :k], False
    return prev[0][:k], prev[1][:, :k], prev[2][:, :k], res <= tol


def _extend(Q, Z):
    """An orthonormal basis of ``H Z`` beyond ``Q``; None if ``H Z`` adds nothing.

    A Gram-Schmidt round against ``Q``, an SVD that keeps the directions
    above ``1e-10`` of ``H Z``'s largest column (rank-revealing: every column
    stays in the span kept), and a second round on those unit vectors, which
    keeps them orthogonal to ``Q`` however small they were ("twice is
    enough").
    """
    xp = get_namespace(Z)
    Y = Z - xp.mean(Z, axis=0)
    scale = max(float(xp.max(vector_norm(Y, axis=0))), 1e-300)
    Y = Y - Q @ (Q.T @ Y)
    Un, S, _ = xp.linalg.svd(Y, full_matrices=False)
    keep = int(np.sum(np.asarray(to_numpy(S)) > 1e-10 * scale))  # S is sorted
    if not keep:
        return None
    Un = Un[:, :keep]
    return _qr(Un - Q @ (Q.T @ Un))[0]


def _qr(Y):
    """Thin QR (SciPy's for NumPy input: no copies, no checks)."""
    if isinstance(Y, np.ndarray):
        return linalg.qr(Y, mode="economic", check_finite=False)
    return get_namespace(Y).linalg.qr(Y)
