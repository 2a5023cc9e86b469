"""Inbound: purchase orders, receiving against them, and putting received stock away.

The inbound use cases own purchase orders and receipts; app.inventory posts the stock and knows
nothing of purchase orders."""
