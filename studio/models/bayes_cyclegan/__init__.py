"""Bayesian CycleGAN (You et al., 2018; the Kaggle report, papers/002): CycleGAN with latent-sampled
inputs, Monte-Carlo marginalisation over the generators' posteriors, a Gaussian prior on every weight and
an adversarial term on the reconstructions."""
