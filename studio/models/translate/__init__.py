"""What CycleGAN and U-GAT-IT share, one module per responsibility.

- :mod:`.data`: the two image folders in memory, random crops/flips, the image pool.
- :mod:`.tiling`: applying a fully convolutional network to any picture in overlapping tiles.
- :mod:`.model`: the loaded translator the studio renders with (:class:`~.model.TranslatorModel`).
- :mod:`.train`: :class:`~.train.TranslatorTask`, the training both families run on the shared
  :class:`studio.train.Trainer` (a family subclass adds its networks, optimisers, losses and one step).

Import from the submodules; :mod:`studio.models.translate_common` re-exports the older flat names.
"""
