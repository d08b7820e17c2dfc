r"""The articles' wrong forms, runnable.

Each function here is a formula or a code path of one of the five articles that is *wrong*,
written as the article writes it wherever it can run at all, so that a student can run it beside
the standard form and watch what goes wrong. Where the article's code cannot run as written (an
undefined name, a shape its own model refuses), the docstring says so and the function runs the
reading the article evidently means; nothing else is "fixed".

Do not train with these. The standard forms are in `minigan.gan.losses` (`discriminator_loss`,
`generator_loss_nonsaturating`, `gradient_penalty`, ...) and `minigan.vae` (`vae_loss`), and each
docstring below names the one that replaces it. Notation as in `minigan.gan.losses`: the
discriminator outputs a logit $\ell$ and $D = \sigma(\ell)$, so that
$\log D = \log\sigma(\ell)$ and $\log(1 - D) = \log\sigma(-\ell)$.

Each function's docstring ends with its id in the audit table, docs/formulas.md.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from .. import ops
from ..autograd import grad
from ..creation import full_like, ones_like, zeros_like
from ..nn import Module
from ..nn import functional as F
from ..optim import Optimizer
from ..tensor import Tensor

Critic = Callable[[Tensor], Tensor]  # samples in, one score (logit) per sample out


def article000_summed_generator_loss(fake_logits: Tensor) -> Tensor:
    r"""Article 000's generator "gradient" (梯度共轭方向), as the loss it is the gradient of.

    The article writes

    $\nabla_G L(G, D) = \mathbb{E}_{x \sim p_{data}}[\nabla_G \log(1 - D(G(z)))]
                        + \mathbb{E}_{z \sim p_z}[\nabla_G \log D(G(z))]$,

    the gradient of $L = \mathbb{E}_z[\log(1 - D(G(z)))] + \mathbb{E}_z[\log D(G(z))]$, returned here
    from the logits: $\log\sigma(-\ell) + \log\sigma(\ell)$, averaged.

    What goes wrong: its derivative with respect to the logit is
    $-\sigma(\ell) + (1 - \sigma(\ell)) = 1 - 2\sigma(\ell)$. The two terms pull in opposite
    directions (the saturating loss's $-\sigma(\ell)$ asks for a larger $D(G(z))$, the second term,
    $+\log D$ where the non-saturating loss has $-\log D$, for a smaller one) and
    their sum is the gradient of no GAN objective. $L$ is largest at $D(G(z)) = 1/2$
    ($-2\log 2$) and falls without bound towards $D(G(z)) = 0$ and $1$, so descending it moves
    $D(G(z))$ *away* from $1/2$, towards whichever end it is nearer: where D already rejects a
    fake ($D(G(z)) < 1/2$), G's step makes that fake look *more* fake. A second slip: the first
    expectation is over $x \sim p_{data}$, of a term in which no $x$ appears.

    Right: one of the two, not their sum: `generator_loss_nonsaturating`
    ($-\mathbb{E}_z[\log D(G(z))]$, derivative $\sigma(\ell) - 1 < 0$: always towards "real"), or
    `generator_loss_saturating`.

    Audit: A000-5 in docs/formulas.md.
    """
    return ops.logsigmoid(-fake_logits).mean() + ops.logsigmoid(fake_logits).mean()


def article000_shared_loss(discriminator: Critic, fake: Tensor, labels: Tensor | float) -> Tensor:
    r"""Article 000's ``train``: one loss, on generated images only, descended by *both* players.

    The article's code (TensorFlow):

        generated_images = generator(z)
        logits = discriminator(generated_images, reuse=None)
        adversarial_loss = adversarial_loss(logits, labels)   # mean sigmoid_cross_entropy_with_logits
        disc_loss = adversarial_loss
        ...
        optimizer.apply_gradients(zip(gradients, gen_vars))
        optimizer.apply_gradients(zip(gradients_disc, disc_vars))

    i.e. $L = \mathrm{BCE}(D(G(z)), \text{labels})$, whose gradient one optimizer applies to G's
    variables and to D's. Returned here: the mean binary cross-entropy of
    ``discriminator(fake)``'s logits against ``labels`` (a tensor shaped like the logits, or a
    number for all of them). Differentiate it with respect to both networks' parameters to
    reproduce the article's step.

    What goes wrong: both players descend the same loss, so there is no game. With labels 1
    (what G wants), D is trained to call the fakes *real*; with labels 0 (what D wants), G is
    trained to make its samples look *fake*. Either way one player works against itself. And D
    never sees a real image: ``train`` takes ``images`` and never uses them.

    The code cannot run as written, besides: ``adversarial_loss = adversarial_loss(logits,
    labels)`` assigns the function's own name inside ``train``, which makes it a local there, so
    Python raises UnboundLocalError at the call; the generator returns (N, 28, 28), without the
    channel axis that ``conv2d`` requires; ``optimizer`` is never defined; and it mixes TF1's
    ``variable_scope``/``get_collection``/``tf.layers`` with TF2's ``GradientTape``.

    Right: D descends `discriminator_loss` on real *and* generated samples (reals labelled 1,
    fakes 0); G descends a generator loss (`generator_loss_nonsaturating`); each player with its
    own optimizer, over its own parameters.

    Audit: A000-12 in docs/formulas.md.
    """
    logits = discriminator(fake)
    target = labels if isinstance(labels, Tensor) else full_like(logits, labels)
    return F.binary_cross_entropy_with_logits(logits, target)


def article001_penalty_as_coded(discriminator: Critic, generator_parameters: Iterable[Tensor], real: Tensor,
                                fake: Tensor) -> Tensor:
    r"""Article 001's "gradient penalty", as its code computes it.

    The article's code (TensorFlow):

        validity_real = discriminator(real_images, training=True)
        validity_generated = discriminator(generated_images, training=True)
        loss_penalty = tf.reduce_mean((validity_real - validity_generated) ** 2)
        gradients = tf.gradients(validity_real, generator.trainable_variables)(noise, training=True)
        slopes = tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3])
        loss_gradient_penalty = tf.reduce_mean(tf.stop_gradient(slopes))
        loss_gpat = tf.add(loss_penalty, loss_gradient_penalty)

    Returned here: ``loss_penalty``, $\mathbb{E}[(D(x) - D(G(z)))^2]$ over the batch, plus the
    "gradient" term: the gradient of $\sum D(x)$ (``tf.gradients`` sums its targets) with respect
    to ``generator_parameters``. $D(x)$ does not depend on G, so that gradient is zero (TensorFlow
    returns None; here `grad` with ``allow_unused=True``, its Nones read as zeros), its squared
    sum is 0, and ``stop_gradient`` makes that a constant: a term that is exactly 0 and trains nothing.

    What goes wrong:

    - ``loss_penalty`` pulls $D(x)$ and $D(G(z))$ *together*: its gradient in D shrinks the very
      gap between real and generated scores that D is meant to widen (and in G, it pulls
      $D(G(z))$ towards $D(x)$, whichever side that is on);
    - no input gradient appears anywhere, so it does not constrain D's slope, which is all a
      gradient penalty is for: a critic can be as steep as it likes and pay nothing when it
      scores both batches alike;
    - the one term that names a gradient is the constant 0.

    What cannot run: ``tf.gradients`` returns a list, and the code calls that list with
    ``(noise, training=True)``; ``tf.gradients`` does not work in eager mode (TF2's default)
    anyway; ``real_images`` is built from ``images``, defined nowhere in the function; and the
    zero tensors it concatenates on, ``tf.concat([epsilon, tf.zeros([batch_size, 100])], axis=1)``
    onto the noise (200 inputs for a generator built with ``input_shape=(100,)``) and
    ``tf.concat([images, tf.zeros([batch_size, 32, 32, 3])], axis=3)`` onto the images (6 channels
    for a discriminator built with ``input_shape=[32, 32, 3]``), give shapes the article's own
    models refuse. Those concatenations are left out here: ``real`` and ``fake`` are D's inputs.

    Right: `gradient_penalty`, WGAN-GP's
    $\lambda\, \mathbb{E}_{\hat x}[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2]$ on interpolates
    $\hat x = \epsilon x + (1 - \epsilon) G(z)$, kept differentiable (``create_graph=True``).

    Audit: A001-9 in docs/formulas.md.
    """
    params = list(generator_parameters)
    validity_real = discriminator(real)
    validity_generated = discriminator(fake)
    loss_penalty = ((validity_real - validity_generated) ** 2).mean()
    gradients: tuple[Tensor | None, ...] = (None,) * len(params)
    if validity_real.requires_grad and params:
        # retain_graph: loss_penalty's backward still runs through D(x) afterwards.
        gradients = grad(validity_real.sum(), params, retain_graph=True, allow_unused=True)
    slopes = sum(((g if g is not None else zeros_like(p)) ** 2).sum() for g, p in zip(gradients, params))
    loss_gradient_penalty = slopes.detach().mean() if isinstance(slopes, Tensor) else slopes
    return loss_penalty + loss_gradient_penalty


def article003_generator_gradient_loss(fake_logits: Tensor) -> Tensor:
    r"""Article 003's generator "gradient" (梯度共轭方向), as the loss whose descent follows it.

    The article writes G's gradient as

    $\nabla_G = \mathbb{E}_{z \sim p_z}[\nabla_G D(G(z))]$

    and says G takes a gradient *ascent* step along it (在判别器的梯度共轭方向上进行梯度上升): G
    ascends $\mathbb{E}_z[D(G(z))]$, the probability itself, not its log. Returned here, the loss
    whose descent is that ascent: $L = -\mathbb{E}_z[D(G(z))] = -\mathbb{E}_z[\sigma(\ell)]$.

    What goes wrong: it does not match the article's own $L(G) = -\mathbb{E}_z[\log D(G(z))]$
    (`generator_loss_nonsaturating`), whose gradient is
    $-\mathbb{E}_z[\nabla_G D(G(z)) / D(G(z))]$. Without the division by $D(G(z))$ the derivative
    in the logit is $-\sigma(\ell)(1 - \sigma(\ell))$, which vanishes where D confidently rejects
    the fakes ($\sigma(\ell) \to 0$), early in training: it saturates, as
    `generator_loss_saturating` does, where the non-saturating loss's $\sigma(\ell) - 1$ is close to $-1$.

    Right: `generator_loss_nonsaturating`, the article's own $L(G)$.

    Audit: A003-5 in docs/formulas.md.
    """
    return -ops.sigmoid(fake_logits).mean()


def article003_discriminator_loss(real_probs: Tensor, fake_probs: Tensor) -> Tensor:
    r"""Article 003's discriminator loss, as its code computes it: everything labelled "real",
    and probabilities passed as logits.

    The article's D ends in ``Dense(1, activation='sigmoid')`` (it outputs probabilities), and:

        cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
        discriminator_input = tf.concat([real_images, generated_images], axis=0)
        discriminator_logits = discriminator(discriminator_input)
        discriminator_loss = cross_entropy(tf.ones_like(discriminator_logits[:batch_size]),
                                           discriminator_logits)

    As written the labels have ``batch_size`` rows and the "logits" twice as many, a shape
    mismatch Keras refuses. The runnable reading, returned here: all $2B$ samples labelled 1,
    with $p$ = cat(``real_probs``, ``fake_probs``) taken as logits:
    $L = \frac{1}{2B}\sum_i \mathrm{softplus}(-p_i)$.

    What goes wrong, twice over:

    - every sample is labelled "real", fakes included, so D is rewarded for calling everything
      real: it never learns to reject a fake;
    - the sigmoid's probabilities go where logits belong (``from_logits=True``), so $\sigma$ is
      applied twice. For $p \in (0, 1)$, $\sigma(p) \in (0.5, 0.73)$: the loss can never fall
      below $\mathrm{softplus}(-1) \approx 0.313$, and its gradient in D's own logit,
      $-\sigma(-p)\,p(1 - p)$, vanishes as $p$ nears 0 or 1 (BCE on the logit would give $p - 1$).

    Right: `discriminator_loss` on D's *logits* (no sigmoid layer), reals labelled 1 and fakes 0.

    Audit: A003-14 in docs/formulas.md.
    """
    p = ops.cat([real_probs, fake_probs])
    return ops.softplus(-p).mean()


def article003_generator_loss(fake_probs: Tensor) -> Tensor:
    r"""Article 003's generator loss, as its code computes it: label 0, probabilities as logits.

        generator_logits = discriminator(generator(generator_input))
        generator_loss = cross_entropy(tf.zeros_like(generator_logits), generator_logits)

    with ``cross_entropy = BinaryCrossentropy(from_logits=True)`` on the outputs of D's sigmoid.
    Returned here: the cross-entropy against label 0 with the probabilities $p$ as logits,
    $L = \mathbb{E}_z[\mathrm{softplus}(p)]$.

    What goes wrong: label 0 makes G minimise "D calls my samples real", the opposite of its
    job: each step of G *lowers* $D(G(z))$, so G helps D. (With logits in place of $p$ it would be
    $-\mathbb{E}[\log(1 - D(G(z)))]$, the saturating loss with its sign flipped.) The article's
    own formula, $L(G) = -\mathbb{E}_z[\log D(G(z))]$, needs label 1. And as in
    `article003_discriminator_loss`, $\sigma$ is applied twice.

    Right: `generator_loss_nonsaturating` on D's logits.

    Audit: A003-15 in docs/formulas.md.
    """
    return ops.softplus(fake_probs).mean()


def article004_gan_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Article 004's GAN loss, which it says the generator minimises:

    $L_{GAN} = -\mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]$

    returned from the logits: $-\mathbb{E}[\log\sigma(\ell_{real})] + \mathbb{E}[\log\sigma(-\ell_{fake})]$.

    What goes wrong: the sign of one term is flipped, so it is neither $V$ nor $-V$ (see
    `minimax_value`). In G only the second term depends on G, so as G's loss it is the saturating
    loss, `generator_loss_saturating`, in disguise. But as a loss for D, minimised (the obvious reading
    of a "loss" whose first term is D's), it raises $D(x)$ *and* raises $D(G(z))$: D learns to
    accept the fakes.

    Right: $L_D = -V$ (`discriminator_loss`) for D; $L_G$ = the second term of $V$
    (`generator_loss_saturating`), or better `generator_loss_nonsaturating`, for G.

    Audit: A004-6 in docs/formulas.md.
    """
    return -ops.logsigmoid(real_logits).mean() + ops.logsigmoid(-fake_logits).mean()


def article004_train_step(G: Module, D: Module, real: Tensor, z: Tensor, opt_g: Optimizer,
                          opt_d: Optimizer) -> tuple[float, float]:
    r"""One iteration of article 004's PyTorch training loop, with its bug. Returns (D_loss, G_loss).

    The article calls ``G.zero_grad()`` and ``D.zero_grad()`` once before the loop (do the same
    before the first call: ``opt_d.zero_grad()``), then each iteration:

        G.zero_grad()
        D_real_loss = criterion(D(real_images), True)
        D_fake_loss = criterion(D(G(noise)), False)
        D_loss = D_real_loss + D_fake_loss
        D_loss.backward()
        D_optimizer.step()

        G.zero_grad()
        G_loss = criterion(D(G(noise)), True)
        G_loss.backward()
        G_optimizer.step()

    What goes wrong: the first ``G.zero_grad()`` is where ``D.zero_grad()`` belongs, so nothing
    ever clears D's gradients, and ``backward`` adds into them. D's $k$-th step applies the sum of
    every D-loss gradient so far, *plus* the G-loss gradients that each ``G_loss.backward()``
    also leaves in D's parameters (the G loss runs through D, and asks D to call fakes real):

    $\theta_D \leftarrow \theta_D - \eta \sum_{j \le k} \nabla_{\theta_D} L_D^{(j)}
                                     - \eta \sum_{j < k} \nabla_{\theta_D} L_G^{(j)}$ (plain SGD).

    The sum grows with every step, and with it the step size; with a momentum or Adam optimizer
    the stale gradients are averaged in again on top. (G's gradients are cleared in time, so G's
    step is right, bar the fakes for D not being detached.)

    What cannot run: ``criterion = nn.BCELoss()`` is given Python booleans as targets, which it
    refuses (it needs a tensor shaped like its input); here they are the labels they mean, 1 for
    True and 0 for False. ``D_optimizer`` is never defined (only ``G_optimizer`` is). The article's D
    ends in a sigmoid for ``nn.BCELoss``; here D returns logits and the loss is
    `binary_cross_entropy_with_logits`: the same loss, computed stably. ``noise`` is ``z``.

    Right: ``opt_d.zero_grad()`` before D's backward, D's loss on ``G(z).detach()`` (D's step needs
    no gradient in G), ``opt_g.zero_grad()`` before G's: see `minigan.gan.training`.

    Audit: A004-15 in docs/formulas.md.
    """
    G.zero_grad()  # the article's line; D.zero_grad() belongs here
    real_logits = D(real)
    d_real_loss = F.binary_cross_entropy_with_logits(real_logits, ones_like(real_logits))
    fake_logits = D(G(z))  # not detached, as in the article: G's .grad fills too, and is cleared below
    d_fake_loss = F.binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits))
    d_loss = d_real_loss + d_fake_loss
    d_loss.backward()
    opt_d.step()

    G.zero_grad()
    g_logits = D(G(z))
    g_loss = F.binary_cross_entropy_with_logits(g_logits, ones_like(g_logits))
    g_loss.backward()  # also adds G's loss gradient into D's .grad, which nothing clears
    opt_g.step()
    return float(d_loss.item()), float(g_loss.item())


def article004_vae_objective(log_likelihood: Tensor, kl: Tensor, beta: float = 1.0) -> Tensor:
    r"""Article 004's VAE objective, which it says the encoder is trained to *minimise*:

    $L_{VAE} = \mathbb{E}_{x \sim p_{data}}[\log p_\theta(x \mid z)]
               - \beta\, \mathbb{E}_{z \sim p_z}[\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))]$

    Returned here, from per-sample ``log_likelihood`` and ``kl`` of shape (N,) (as
    `minigan.vae.vae_loss` takes them): the batch mean of $\log p_\theta(x \mid z) - \beta\,\mathrm{KL}$.

    What goes wrong: this is (for $\beta = 1$) the ELBO, the quantity to *maximise*. Minimised,
    as the article says, it makes reconstructions worse (it lowers $\log p_\theta(x \mid z)$) and
    pushes $q_\phi(z \mid x)$ away from the prior (it raises the KL). The loss is its negative:
    `minigan.vae.vae_loss`. The article's other faults in this formula (a $z$ never drawn from
    $q_\phi(z \mid x)$, the KL under an expectation over the prior, the encoder that "maximises
    the reconstruction error", a ``KL_divergence`` never defined) are listed in the module
    docstring of minigan/vae/losses.py.

    Audit: A004-10 in docs/formulas.md.
    """
    return (log_likelihood - beta * kl).mean()
