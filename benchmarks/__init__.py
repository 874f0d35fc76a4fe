"""Scripts that print performance figures (not tests); run them from the repository root."""
