"""The feed: tickets on sale with filters, page by page."""
