"""Sharing and trust: share links of tickets, and the buyer's rating of a deal."""
