"""Mode collapse lab (2-D toy data): setup, widgets and live views."""
