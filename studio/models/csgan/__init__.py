"""CSGAN content generators (DCGAN 64 px, LSGAN 112 px) with the CSGAN paper's training recipe."""

from .networks import CSGANConfig, Discriminator, Generator

__all__ = ["CSGANConfig", "Discriminator", "Generator"]
