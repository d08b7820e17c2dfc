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
print("logit of D(G(z))   d/dl E[log(1-D)]   d/dl -E[log D]   article 000's sum (audit A000-5)")
for l in [-8.0, -4.0, 0.0, 4.0]:
    z = mg.tensor([l], dtype=mg.float64, requires_grad=True)
    (gs,) = mg.grad(gan.generator_loss_saturating(z), z)
    (gn,) = mg.grad(gan.generator_loss_nonsaturating(z), z)
    (gsum,) = mg.grad(gan.articles.article000_summed_generator_loss(z), z)
    print(f"{l:16.1f}   {gs.item():16.5f}   {gn.item():14.5f}   {gsum.item():14.5f}")
    if l < 0:  # descending: the non-saturating loss raises the logit, the sum lowers it further
        assert gn.item() < -0.9 and gsum.item() > 0.9 and abs(gs.item()) < 0.02
print("Early on D rejects fakes (very negative logits): the saturating gradient vanishes,")
print("the non-saturating one is close to -1. Article 000's sum of the two is positive there:")
print("a descent step on it makes the fakes look more fake.")

step("3. Article 003's discriminator labels everything 'real' (formula audit A003-14)")
print("Its code: cross_entropy(ones_like(logits[:batch_size]), logits), logits = D(cat[real, fake]):")
print("labels made from the real half, applied to every output, fakes included (as it can run;")
print("as written the shapes differ). Its D ends in a sigmoid and the loss takes logits, so the")
print("probabilities p pass through a second sigmoid. The fakes' part of the loss and its slope:")
p_fake = mg.tensor([0.1, 0.9], dtype=mg.float64, requires_grad=True)
p_real = mg.tensor([0.9, 0.9], dtype=mg.float64)
(slope,) = mg.grad(gan.articles.article003_discriminator_loss(p_real, p_fake), p_fake)
print("d loss / d D(G(z)) =", slope.numpy(), "(negative: descending it raises D(G(z)), D accepts fakes)")
assert (slope.numpy() < 0).all()
logit = mg.tensor([-2.0, 2.0], dtype=mg.float64, requires_grad=True)
(slope,) = mg.grad(gan.discriminator_loss(mg.tensor([2.0, 2.0], dtype=mg.float64), logit), logit)
print("the right loss, reals 1 and fakes 0: d loss / d logit of D(G(z)) =", slope.numpy(), "(positive: rejects them)")
assert (slope.numpy() > 0).all()

step("4. Article 004 flips the sign of one term (formula audit A004-6)")
print("Its L_GAN = -E[log D(x)] + E[log(1 - D(G(z)))] is neither V nor -V:")
value = gan.articles.article004_gan_loss(real, fake).item()
v = gan.minimax_value(real, fake).item()
print(f"L_GAN = {value:.5f}, V = {v:.5f}, -V = {-v:.5f}")
assert not np.isclose(value, v) and not np.isclose(value, -v)
fake_logits = mg.tensor([-1.0, -3.0], dtype=mg.float64, requires_grad=True)
(slope,) = mg.grad(gan.articles.article004_gan_loss(real.to(mg.float64), fake_logits), fake_logits)
print("minimised by D, its slope in D(G(z))'s logits is", slope.numpy(), "(negative: D learns to accept fakes)")
assert (slope.numpy() < 0).all()
print("The consistent pair is L_D = -V and L_G = V (only the second term depends on G).")

step("5. The gradient penalty of WGAN-GP (梯度惩罚, article 001) is a second derivative")
w = mg.tensor([[0.6], [0.8], [1.2]], requires_grad=True)
critic = lambda x: x @ w  # noqa: E731   a linear critic: its input gradient is w everywhere
x, g = mg.randn(8, 3), mg.randn(8, 3)
gp = gan.gradient_penalty(critic, x, g, lambda_=10.0)
(dw,) = mg.grad(gp, w)
norm = float(np.linalg.norm(w.numpy()))
print(f"penalty = 10 (|w| - 1)^2 = {10 * (norm - 1) ** 2:.5f}; minigan: {gp.item():.5f}")
print("d penalty / dw =", dw.numpy().ravel(), "expected", (20 * (norm - 1) * w.numpy() / norm).ravel())
print("Article 001's code (formula audit A001-9) penalises the gap (D(x) - D(G(z)))^2 instead, and its")
print("'gradient' term, of D(x) with respect to G's weights, is 0 under a stop_gradient. The gap term")
print("does train D, the wrong way: it pulls D's scores of real and generated samples together.")
G = mg.nn.Linear(3, 3)
as_coded = gan.articles.article001_penalty_as_coded(critic, G.parameters(), x, G(g))
gap = ((critic(x) - critic(G(g))) ** 2).mean()
print(f"article 001's penalty = {as_coded.item():.5f}; the squared gap alone = {gap.item():.5f}")
assert np.isclose(as_coded.item(), gap.item())
(dw,) = mg.grad(as_coded, w)
with mg.no_grad():
    stepped = lambda v: v @ (w - 0.05 * dw)  # noqa: E731   the critic after one gradient step on it
    gap_after = ((stepped(x) - stepped(G(g))) ** 2).mean()
print(f"one gradient step on it: squared gap {gap.item():.5f} -> {gap_after.item():.5f} (D tells them apart less)")
assert gap_after.item() < gap.item()

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
