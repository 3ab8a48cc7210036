"""Latent space page: the generator source and the views of each exploration mode."""
