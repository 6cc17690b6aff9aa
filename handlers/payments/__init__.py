"""Payments: pre-checkout, the payment, the delivery and refunds."""
