"""My tickets: the seller's own listings by status; withdraw, show the barcode."""
