"""Evaluation metrics (Qt-free): FID, KID, MiFID, Inception-style score, precision/recall/coverage."""
