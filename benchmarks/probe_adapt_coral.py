"""Why ADAPT's DeepCORAL gains on the rotated moons: its encoder learns from the CORAL loss only.

ADAPT 0.4.5's ``DeepCORAL.train_step`` takes the encoder's gradient from the
domain loss alone (``enc_tape.gradient(disc_loss, encoder)``); the task loss
trains only the head. With ``lambda_=0`` the encoder therefore stays at its
random (Glorot) initialisation. This probe fits ADAPT's DeepCORAL with
``lambda_`` 0 and 1 (and its source-only MLP) on the development draws of the
rotated moons (seeds 10-12) and prints the target accuracies and how far the
encoder's first-layer weights moved. Accuracy only:

    OMP_NUM_THREADS=1 nice -n 19 env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/probe_adapt_coral.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_deep import BATCH, EPOCHS, LR, _keras, load, run_adapt  # noqa: E402


def main():
    import tensorflow as tf
    from adapt.feature_based import DeepCORAL

    for seed in (10, 11, 12):
        X, y, sd = load("moons", seed)
        t = sd < 0
        so = run_adapt("source only", X, y, sd, seed, None)
        row = [f"seed {seed}: source only {np.mean(so(X[t]) == y[t]):.3f}"]
        for lam in (0.0, 1.0):
            tf.keras.utils.set_random_seed(seed)
            encoder, task, *_ = _keras(2, 2)
            w0 = encoder.layers[0].get_weights()[0].copy()
            model = DeepCORAL(encoder, task, Xt=X[t].astype(np.float32), lambda_=lam,
                              random_state=seed, verbose=0,
                              optimizer=tf.keras.optimizers.Adam(LR),
                              loss="categorical_crossentropy")
            model.fit(X[sd > 0].astype(np.float32), np.eye(2)[y[sd > 0]], X[t].astype(np.float32),
                      epochs=EPOCHS, batch_size=BATCH, verbose=0)
            acc = np.mean(np.asarray(model.predict(X[t].astype(np.float32), verbose=0))
                          .argmax(1) == y[t])
            moved = np.abs(model.encoder_.layers[0].get_weights()[0] - w0).max()
            row.append(f"lambda_={lam:g}: {acc:.3f} (encoder moved {moved:.3g})")
        print("; ".join(row), flush=True)


if __name__ == "__main__":
    main()
