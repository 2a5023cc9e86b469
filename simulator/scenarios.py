"""Realistic orders and whole order lives: random content, the replay stream, the demo loop."""
from __future__ import annotations

import random
import threading

from simulator.store import ApiError, Store

FIRST = ("Aroha", "Ben", "Chloe", "Daniel", "Emma", "Finn", "Grace", "Hemi", "Isla", "Jack", "Kiri", "Liam",
         "Mia", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sam", "Tama", "Wei", "Zoe")
LAST = ("Smith", "Ngata", "Brown", "Wilson", "Taylor", "Singh", "Chen", "Walker", "Parata", "Nguyen",
        "Thompson", "Patel", "Martin", "Kelly")
PLACES = (
    ("Ponsonby", "Auckland", "Auckland", "1011", "NZ"), ("Te Aro", "Wellington", "Wellington", "6011", "NZ"),
    ("Riccarton", "Christchurch", "Canterbury", "8011", "NZ"), ("Fitzroy", "Melbourne", "VIC", "3065", "AU"),
    ("Surry Hills", "Sydney", "NSW", "2010", "AU"), ("New Farm", "Brisbane", "QLD", "4005", "AU"),
)
STREETS = ("Queen Street", "Cuba Street", "High Street", "George Street", "Brunswick Street", "Victoria Road")
CHANNELS = ("Shopify", "WooCommerce", "BigCommerce", "Manual")
DEFAULT_SKUS = tuple(f"SKU-{n:04d}" for n in range(1, 41))


def random_destination(rng: random.Random) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    suburb, city, state, post_code, country = rng.choice(PLACES)
    return {
        "name": f"{first} {last}", "company": "", "email": f"{first.lower()}.{last.lower()}@example.com",
        "phone": f"+64 21 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        "street": f"{rng.randrange(1, 300)} {rng.choice(STREETS)}", "suburb": suburb, "city": city,
        "state": state, "post_code": post_code, "country": country,
    }


def random_items(rng: random.Random, skus, lines: int | None = None) -> list[dict]:
    skus = list(skus) or list(DEFAULT_SKUS)
    count = lines or rng.choice((1, 1, 1, 2, 2, 3, 4))
    chosen = rng.sample(skus, min(count, len(skus)))
    return [{"sku": sku, "description": f"Item {sku}", "quantity": rng.choice((1, 1, 1, 2, 2, 3, 5)),
             "weight": round(rng.uniform(0.1, 2.5), 2), "value": round(rng.uniform(5, 120), 2)}
            for sku in chosen]


class Scenarios:
    """Drives the store as a merchant's day would: orders arrive, change, ship, get deleted."""

    def __init__(self, store: Store, skus=None, seed: int | None = None):
        self.store = store
        self.skus = list(skus or DEFAULT_SKUS)
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counter = 0

    def order_number(self, prefix: str = "SIM-") -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:06d}"

    def new_order(self, fields: dict | None = None, rng: random.Random | None = None, prefix: str = "SIM-") -> dict:
        rng = rng or self.rng
        fields = dict(fields or {})
        skus = fields.pop("skus", None) or self.skus
        lines = fields.pop("lines", None)
        order = {
            "order_number": self.order_number(prefix),
            "reference": f"#{rng.randrange(1000, 99999)}",
            "shipping_method": rng.choice(("Standard", "Express", "Overnight")),
            "channel": rng.choice(CHANNELS),
            "destination": random_destination(rng),
            "items": random_items(rng, skus, lines),
        }
        order.update(fields)
        return self.store.create(order)

    def change(self, order_number: str, fields: dict | None = None, rng: random.Random | None = None) -> dict:
        rng = rng or self.rng
        current = self.store.get(order_number=order_number)
        if fields:
            return self.store.update({"order_id": current["order_id"], **fields})
        items = [{"sku": i["sku"], "description": i["description"], "quantity": i["quantity"],
                  "weight": i["weight"], "value": i["value"]} for i in current["items"]]
        move = rng.choice(("more", "fewer", "add", "drop") if len(items) > 1 else ("more", "add"))
        if move == "more":
            rng.choice(items)["quantity"] += rng.randrange(1, 3)
        elif move == "fewer":
            item = rng.choice(items)
            item["quantity"] = max(1, item["quantity"] - 1) if item["quantity"] > 1 else item["quantity"]
            if item["quantity"] == 1:
                items.remove(item)
        elif move == "add":
            unused = [s for s in self.skus if s not in {i["sku"] for i in items}]
            if unused:
                items += random_items(rng, unused, 1)
            else:
                items[0]["quantity"] += 1
        else:
            items.pop(rng.randrange(len(items)))
        return self.store.update({"order_id": current["order_id"], "items": items})

    def partial_items(self, order_number: str, rng: random.Random | None = None) -> list[dict]:
        """Part of what is left to ship: a strict subset, so the order stays partly shipped."""
        rng = rng or self.rng
        remaining = [(i["sku"], i["quantity_to_ship"]) for i in self.store.get(order_number=order_number)["items"]
                     if i["quantity_to_ship"] > 0]
        total = sum(q for _, q in remaining)
        if total < 2:
            raise ApiError(400, "an order of one unit cannot be shipped in part")
        chosen, budget = [], rng.randrange(1, total)
        for sku, quantity in remaining:
            take = min(quantity, budget)
            if take:
                chosen.append({"sku": sku, "quantity": take})
                budget -= take
        return chosen

    def replay(self, orders: int, seed: int = 1, ship_rate: float = 0.7, partial_rate: float = 0.1,
               change_rate: float = 0.2, delete_rate: float = 0.05, skus=None, prefix: str | None = None) -> str:
        """Live N orders through their whole life in the store; returns the order-number prefix used."""
        rng = random.Random(seed)
        prefix = prefix if prefix is not None else f"R{seed}-{rng.randrange(16**4):04x}-"
        skus = list(skus or self.skus)
        for _ in range(orders):
            number = self.new_order({"skus": skus}, rng, prefix)["order_number"]
            if rng.random() < change_rate:
                self.change(number, rng=rng)
            if rng.random() < delete_rate:
                self.store.delete(self.store.get(order_number=number)["order_id"])
                continue
            if rng.random() < ship_rate:
                items = self.store.get(order_number=number)["items"]
                if rng.random() < partial_rate and sum(i["quantity"] for i in items) > 1:
                    self.store.ship(order_number=number, items=self.partial_items(number, rng))
                    if rng.random() < 0.5:
                        self.store.ship(order_number=number)
                else:
                    self.store.ship(order_number=number)
        return prefix
