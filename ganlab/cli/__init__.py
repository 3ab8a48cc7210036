"""`python -m ganlab train|presets|bench|latent|theory`: every experiment the app runs, headless."""
