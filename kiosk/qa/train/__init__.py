"""Training the answer scorer (``python -m kiosk.qa.train``; the recipe is recipe.toml)."""
