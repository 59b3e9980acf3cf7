"""CAN: Creative Adversarial Networks (Elgammal et al. 2017; the UCLA implementation report).

A GAN whose discriminator also classifies the *style* of real images, and whose generator is rewarded
for images the discriminator accepts as real but cannot place in any one style (style ambiguity).

Modules: ``config`` (typed configs), ``networks`` (generator, two-headed discriminator), ``losses``,
``data`` (a folder of style subfolders), ``diversity`` (mode-collapse watch), ``train`` (CAN's
training task on the shared :class:`studio.train.Trainer`), ``model`` (the loaded model with the style
meter / steering API), ``family`` (registration with the studio).
"""
