"""Saved searches: "Tell me when" on the feed and on event pages, /alerts, and the notices they send."""
