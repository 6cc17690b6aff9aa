"""My purchases and disputes."""
