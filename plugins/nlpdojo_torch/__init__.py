"""The PyTorch backend (CPU or CUDA). Optional: importing this package never imports torch."""
