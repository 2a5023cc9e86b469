"""Starshipit: the API client (client.py); the webhook receiver and event processing live beside it."""
