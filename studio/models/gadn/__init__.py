"""GADN: Generative Adversarial Disentangling Network (Xiang & Li, "Disentangling Style and Content in
Anime Illustrations").

Stage 1 trains a content encoder E that keeps no style (a classifier C1 must fail to find the source
artist in G(E(x), S(a')) with a' != a); stage 2 trains a dual-conditional generator G(content, style)
against an LSGAN discriminator D and an adversarial artist classifier C2, with E frozen.
"""
