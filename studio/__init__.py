"""GAN Studio: a desktop art studio for trained image generators."""

__version__ = "0.1.0"
