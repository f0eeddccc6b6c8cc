"""Speech recognition: adapters behind ``ports.Recognizer``, and the content's vocabulary."""
