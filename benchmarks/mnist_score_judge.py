"""How much of an MNIST score is the judge's? Scores with the shipped classifier made surer or less sure.

    python benchmarks/mnist_score_judge.py --checkpoint runs/dcgan/last.npz [--n 10000]

The MNIST score (the Inception Score with an MNIST classifier) rewards confident predictions,
so it measures the classifier as well as the samples. Papers report about 9.88 for the real
test set with their classifiers; ours gives less (`minigan eval --real test`; the number is in
docs/training.md), so it is a less sure judge. This script
multiplies its logits by a factor a (`minigan.metrics.sharpen`: same predicted classes, another
confidence), scores the real test set and the checkpoint's samples at each a, and finds the a at
which the real test set scores the papers' 9.88. The samples' score at that a is the one to set
beside published GAN scores. (Article 002 names the weakness of GAN metrics as an open problem;
this is one of its forms.)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigan import evaluation
from minigan.classifier import classify
from minigan.metrics import mnist_score, sharpen

PUBLISHED_REAL_TEST_SCORE = 9.88
FACTORS = (0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def matching_factor(probs, target, low=0.25, high=4.0, rounds=40):
    """The a in [low, high] at which the score of ``probs`` sharpened by a is ``target`` (bisection:
    for real digits the score rises with a); None if the target lies outside the scores at the ends."""
    if not mnist_score(sharpen(probs, low)) <= target <= mnist_score(sharpen(probs, high)):
        return None
    for _ in range(rounds):
        middle = (low + high) / 2
        low, high = (middle, high) if mnist_score(sharpen(probs, middle)) < target else (low, middle)
    return (low + high) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a checkpoint written by minigan train (an MNIST model)")
    parser.add_argument("--n", type=int, default=10_000, help="samples, and real test images (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    gan, config = evaluation.load_generator(args.checkpoint)
    try:
        fake, _ = classify(evaluation.digit_samples(gan, args.n, args.seed))
    except ValueError as error:
        parser.error(f"{args.checkpoint}: {error}")
    test_digits, _ = evaluation.real_images("test", min(args.n, 10_000))  # the test split has 10,000
    real, _ = classify(test_digits)

    print(f"MNIST score of {len(real)} real test digits and of {args.n} samples of {gan.name} / {config['loss']} "
          f"at step {config.get('step')}, with the classifier's logits multiplied by a:\n")
    print(f"{'a':>6} {'real test':>10} {'samples':>10}")
    for a in FACTORS:
        print(f"{a:6.2f} {mnist_score(sharpen(real, a)):10.3f} {mnist_score(sharpen(fake, a)):10.3f}")
    a = matching_factor(real, PUBLISHED_REAL_TEST_SCORE)
    if a is None:
        print(f"\nno a in [0.25, 4] brings the real test set to {PUBLISHED_REAL_TEST_SCORE}")
    else:
        print(f"\nat a = {a:.3f} the real test set scores the papers' {PUBLISHED_REAL_TEST_SCORE}; "
              f"the samples score {mnist_score(sharpen(fake, a)):.3f} there (at a = 1, the shipped judge: "
              f"{mnist_score(fake):.3f})")


if __name__ == "__main__":
    main()
