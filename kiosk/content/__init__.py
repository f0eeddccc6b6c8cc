"""Curated content: the pack curators write, the bundle kiosks run."""
