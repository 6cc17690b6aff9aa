"""Sell: the listing wizard, from the event type to Publish."""
