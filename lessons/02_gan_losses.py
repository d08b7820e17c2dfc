"""Lesson 2: the GAN losses of the articles, and where the articles go wrong.

Run it: python lessons/02_gan_losses.py

The discriminator outputs a logit l and D = sigmoid(l). Every loss below is in minigan.gan,
written as its formula; here we look at how they behave.
"""
import numpy as np

import minigan as mg
from minigan import gan


def step(title):
    print(f"\n=== {title}")


step("1. The minimax value V(D, G) (极小极大博弈; articles 000, 002, 004)")
real, fake = mg.tensor([2.0, 1.5]), mg.tensor([-1.0, -3.0])
print("V = E[log D(x)] + E[log(1 - D(G(z)))] =", gan.minimax_value(real, fake).item())
print("discriminator loss -V               =", gan.discriminator_loss(real, fake).item())

step("2. Saturating vs non-saturating generator loss (articles 002 and 003)")
print("logit of D(G(z))   d/dl E[log(1-D)]   d/dl -E[log D]")
for l in [-8.0, -4.0, 0.0, 4.0]:
    z = mg.tensor([l], dtype=mg.float64, requires_grad=True)
    (gs,) = mg.grad(gan.generator_loss_saturating(z), z)
    (gn,) = mg.grad(gan.generator_loss_nonsaturating(z), z)
    print(f"{l:16.1f}   {gs.item():16.5f}   {gn.item():14.5f}")
print("Early on D rejects fakes (very negative logits): the saturating gradient vanishes,")
print("the non-saturating one is close to -1. Article 000 adds both into one 'gradient';")
print("they pull in opposite directions, so use one of them, not their sum.")

step("3. Article 003's discriminator labels everything 'real'")
print("Its code: cross_entropy(ones_like(logits[:batch]), logits) — only real samples, label 1.")
print("A D trained so never learns to reject a fake: its loss does not depend on G at all.")
print("Correct: label reals 1 and fakes 0 =", gan.discriminator_loss(real, fake).item())

step("4. Article 004 flips the sign of one term")
print("Its L_GAN = -E[log D(x)] + E[log(1 - D(G(z)))] is neither V nor -V;")
print("the consistent pair is L_D = -V and L_G = V (only the second term depends on G).")

step("5. The gradient penalty of WGAN-GP (梯度惩罚, article 001) is a second derivative")
w = mg.tensor([[0.6], [0.8], [1.2]], requires_grad=True)
critic = lambda x: x @ w  # noqa: E731   a linear critic: its input gradient is w everywhere
x, g = mg.randn(8, 3), mg.randn(8, 3)
gp = gan.gradient_penalty(critic, x, g, lambda_=10.0)
(dw,) = mg.grad(gp, w)
norm = float(np.linalg.norm(w.numpy()))
print(f"penalty = 10 (|w| - 1)^2 = {10 * (norm - 1) ** 2:.5f}; minigan: {gp.item():.5f}")
print("d penalty / dw =", dw.numpy().ravel(), "expected", (20 * (norm - 1) * w.numpy() / norm).ravel())
print("Article 001's code penalises (D(x) - D(G(z)))^2 and stops the gradient of its 'slopes':")
print("no input gradient, nothing trained. gan.gradient_penalty is the penalty it names.")

step("6. InfoGAN's mutual-information term (互信息): a code that Q can read back")
codes = mg.tensor([0, 1, 2, 3])
for name, logits in (("Q knows nothing (uniform)", mg.zeros(4, 10)),
                     ("Q reads every code", 8.0 * mg.nn.functional.one_hot(codes, 10).to(mg.float32))):
    loss = gan.info_loss(logits, codes).item()
    bound = round(np.log(10) - loss, 4) + 0.0  # + 0.0: no "-0.0000"
    print(f"{name:27s} loss -E[log Q(c|x)] = {loss:.4f};  bound L_I on I(c; x) = log 10 - loss = {bound:.4f}")
print("G and Q both lower the loss, so each of the 10 codes must draw samples Q can tell apart:")
print("on MNIST (minigan train --model infogan) the codes come to follow the digits in part, without")
print("labels, and some codes learn a style instead, such as the slant of a 1 (minigan eval measures")
print("code_purity). Measured runs: docs/training.md, 'InfoGAN: finding the digits without labels'.")
