"""Class page: every run on the server (table and projector gallery), the teacher's controls, the announcement
banner every page shows."""
