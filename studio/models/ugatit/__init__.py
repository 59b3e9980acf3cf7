"""U-GAT-IT: unsupervised translation with CAM attention and AdaLIN (Kim et al., 2020)."""
