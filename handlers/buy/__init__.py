"""Buy: the hold, its invoice, letting it go, waiting for a held ticket."""
