"""Parameter initialisers (filled in by the nn work)."""
