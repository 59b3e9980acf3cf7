"""Gatys et al. neural style transfer of one photo (Qt-free); see :mod:`studio.stylize.gatys`."""

from .gatys import StylizeConfig, StylizeJob, stylize

__all__ = ["StylizeConfig", "StylizeJob", "stylize"]
