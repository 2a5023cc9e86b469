"""A stand-in for Starshipit: its order API, labels, tracking, and the webhooks it sends to the WMS."""
from simulator.server import Simulator

__all__ = ["Simulator"]
