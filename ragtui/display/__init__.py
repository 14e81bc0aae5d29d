"""Text for people: untrusted text made safe, run figures in words, progress lines."""
