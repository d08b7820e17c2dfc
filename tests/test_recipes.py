"""The ``--loss`` records of `minigan.gan.recipes`: here, article 003's, which trains with the audit's wrong forms."""
import numpy as np

import minigan as mg
from minigan.gan import articles
from minigan.gan.recipes import LOSSES
from minigan.gan.training import TrainConfig, Trainer


def test_article003_runs_the_audits_losses_on_ds_sigmoid_outputs():
    mg.manual_seed(0)
    D = mg.nn.Sequential(mg.nn.Linear(2, 1), mg.gan.models.Logit())
    real, fake = mg.randn(8, 2), mg.randn(8, 2)
    recipe = LOSSES["article003"]
    judged = recipe.d_loss(D, real, fake, None)
    p_real, p_fake = mg.sigmoid(D(real)), mg.sigmoid(D(fake))
    assert np.isclose(judged.loss.item(), articles.article003_discriminator_loss(p_real, p_fake).item())
    assert np.allclose(judged.real_scores.numpy(), D(real).numpy())  # the logits, which the trainer records as D(x)
    assert np.isclose(recipe.g_loss(D, real, fake, None).item(), articles.article003_generator_loss(p_fake).item())
    assert recipe.logits and recipe.lr == LOSSES["ns"].lr and recipe.betas == LOSSES["ns"].betas  # A003-11


def test_article003_trains_d_to_call_everything_real(tmp_path):
    config = TrainConfig(model="toy", loss="article003", data="ring8", out=str(tmp_path), batch_size=32, lr=1e-2,
                         progress=False)
    trainer = Trainer(config)
    rows = [trainer.train_step() for _ in range(20)]
    assert rows[0]["d_fake"] < 0.9 and rows[-1]["d_fake"] > 0.99 and rows[-1]["d_real"] > 0.99  # fakes accepted
