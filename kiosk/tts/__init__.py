"""Speech out: SVOX Pico (py-nanotts) for fr/en/es/de/it and espeak-ng (pyttsx3) for the
rest and as a fallback, each isolated in a worker process."""
