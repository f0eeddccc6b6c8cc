"""Speech out: synthesis with espeak-ng (through pyttsx3), isolated in a worker process."""
