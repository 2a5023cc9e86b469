"""Starshipit's orders in the WMS: the webhook inbox, the order mirror, shipments and discrepancies.

The web process only stores events (`inbox`); `events.apply_event` applies one stored event to the
order mirror and the stock ledger, in one transaction with marking it processed.
"""
