"""Tests of the outbox, deliveries and reconciliation."""
