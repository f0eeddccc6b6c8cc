"""Audio in and out: WAV files now; microphone, playback and end-pointing later."""
