"""Write src/deltarule/examples/digits.npz from scikit-learn's bundled copy of the digits.

scikit-learn's ``load_digits`` (1797 images of 8×8 pixels, values 0..16, labels 0..9; the
UCI optical recognition of handwritten digits test set) ships with scikit-learn, so no
download. Inputs are scaled to [0, 1] by dividing by 16 and stored as float32 (k/16 is
exact in float32, so reading them as float64 gives exactly k/16); targets are the integer
labels, turned into one-hot rows by the problem file's ``one_hot: true``.

Run once:  python tests/data/make_digits.py   (needs scikit-learn; the result is committed)
"""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[2] / "src" / "deltarule" / "examples" / "digits.npz"


def main() -> None:
    digits = load_digits()
    inputs = (digits.data / 16.0).astype(np.float32)
    targets = digits.target.astype(np.int8)
    assert inputs.shape == (1797, 64) and inputs.min() == 0 and inputs.max() == 1
    np.savez_compressed(OUT, inputs=inputs, targets=targets)
    print(f"{OUT}: {OUT.stat().st_size:,} bytes, {len(inputs)} examples")


if __name__ == "__main__":
    main()
