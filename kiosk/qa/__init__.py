"""Question answering: encoder, index of the content, and the answerer."""
