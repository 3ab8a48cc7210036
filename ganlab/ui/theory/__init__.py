"""Theory page: the 1-D minimax game, widgets and live views."""
