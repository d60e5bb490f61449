"""``digits``: classify 8x8 handwritten digits (the data set scikit-learn ships; no download).

Inputs are lists of 64 pixel intensities (ints 0-16), outputs class labels (ints 0-9); the
score is the accuracy on held-out samples the validator draws. The data set is split once, by
index: every fourth sample is held out for validators, the rest is what reference miners train
on. The data is public, so a miner could memorise the held-out samples; the validator perturbs
each challenge (about one pixel in ten moves by one intensity step) so an exact lookup does not
work, and a real subnet would use data miners cannot see in advance.

Reference models (``neuron miner --model``): ``logreg`` (logistic regression, ~95%), ``knn``
(3 nearest neighbours, ~98%), ``tree`` (a depth-4 decision tree, ~55%: the weak miner),
``constant`` (always answers 0, ~10%).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from ...errors import BadForwardRequest
from .base import Challenge, Model, Task, TaskLoadError

PIXELS = 64
MAX_PIXEL = 16
HELD_OUT_EVERY = 4
NOISE_PERCENT = 10


class DigitsTask(Task):
    """Handwritten digits: 64 pixels in, a label 0-9 out, scored by accuracy."""

    name: ClassVar[str] = "digits"
    models: ClassVar[tuple[str, ...]] = ("logreg", "knn", "tree", "constant")
    max_inputs: ClassVar[int] = 256

    def __init__(self) -> None:
        data = load_digits()
        images = [[int(v) for v in row] for row in data.data]
        labels = [int(v) for v in data.target]
        self.held_out = [
            (images[i], labels[i]) for i in range(len(images)) if i % HELD_OUT_EVERY == 0
        ]
        self.train = [(images[i], labels[i]) for i in range(len(images)) if i % HELD_OUT_EVERY != 0]

    def challenge(self, rng: random.Random, n: int) -> Challenge:
        """``n`` held-out images (at most all of them), each pixel moved by ±1 with
        probability ``NOISE_PERCENT``%, and their labels."""
        picked = rng.sample(self.held_out, min(n, len(self.held_out)))
        inputs = []
        for image, _ in picked:
            noisy = [
                min(MAX_PIXEL, max(0, p + rng.choice((-1, 1))))
                if rng.randrange(100) < NOISE_PERCENT
                else p
                for p in image
            ]
            inputs.append(noisy)
        return Challenge(inputs=inputs, expected=[label for _, label in picked])

    def score(self, challenge: Challenge, outputs: Any) -> float:
        """Accuracy: the share of labels right. 0 unless ``outputs`` is a list of ints of the
        challenge's length (a bool or a float anywhere makes the whole answer 0)."""
        if not isinstance(outputs, list) or len(outputs) != len(challenge.expected):
            return 0.0
        correct = 0
        for got, want in zip(outputs, challenge.expected, strict=True):
            if type(got) is not int:  # bools and floats are not labels
                return 0.0
            correct += got == want
        return correct / len(outputs) if outputs else 0.0

    def check_inputs(self, inputs: Any) -> list[Any]:
        """1-``max_inputs`` images of 64 ints in [0, 16]; else ``BadForwardRequest``."""
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= self.max_inputs:
            raise BadForwardRequest(f"inputs must be a list of 1-{self.max_inputs} images")
        for image in inputs:
            if (
                not isinstance(image, list)
                or len(image) != PIXELS
                or any(type(p) is not int or not 0 <= p <= MAX_PIXEL for p in image)
            ):
                raise BadForwardRequest(f"each input is {PIXELS} ints in [0, {MAX_PIXEL}]")
        return inputs

    def reference_miner(self, model: str) -> Model:
        """Train ``model`` (one of :attr:`models`) on the training split; its predict."""
        if model == "constant":
            return lambda inputs: [0 for _ in inputs]
        makers: dict[str, Any] = {
            "logreg": lambda: LogisticRegression(max_iter=1000),
            "knn": lambda: KNeighborsClassifier(n_neighbors=3),
            "tree": lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
        }
        if model not in makers:
            raise TaskLoadError(f"unknown digits model {model!r}; use {', '.join(self.models)}")
        clf = makers[model]()
        clf.fit([x for x, _ in self.train], [y for _, y in self.train])

        def predict(inputs: list[Any]) -> list[Any]:
            return [int(v) for v in clf.predict(inputs)]

        return predict
