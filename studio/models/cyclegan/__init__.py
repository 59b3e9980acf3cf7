"""CycleGAN: unpaired translation between two image folders (the ECE 285 DnCNN variant and the
standard ResNet/PatchGAN configuration)."""
