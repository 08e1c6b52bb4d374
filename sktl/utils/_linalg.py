"""A block eigensolver for the top of a symmetric operator given by its block products."""

import numpy as np

from ._array_api import asarray, get_namespace, to_numpy, vector_norm


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
