"""Image GAN page: setup, widgets, live views and checkpoints."""
