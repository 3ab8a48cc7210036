"""ganlab: an interactive GAN explorer. The engine (this package) never imports Streamlit."""
__version__ = "0.1.0"
