"""``studio run FAMILY JOB``: see studio.cli.train_cmd.register_run."""

from studio.cli.train_cmd import register_run as register  # noqa: F401
