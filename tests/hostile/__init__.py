"""Hostile inputs: a corpus generator and the suite that runs it through every door."""
