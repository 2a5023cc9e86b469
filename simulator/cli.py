"""`wms simulator`: run the Starshipit stand-in beside the WMS."""
from __future__ import annotations

import os
from pathlib import Path

import click

from simulator.server import Simulator


def _read_skus(skus_file: str | None, skus: str | None) -> list[str] | None:
    found: list[str] = []
    if skus_file:
        for line in Path(skus_file).read_text().splitlines():
            sku = line.split(",")[0].strip()
            if sku and not sku.startswith("#") and sku.lower() != "sku":
                found.append(sku)
    if skus:
        found += [s.strip() for s in skus.split(",") if s.strip()]
    return found or None


@click.command("simulator")
@click.option("--port", default=0, show_default=True, help="0 picks a free port and prints it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--wms-url", default=None, help="The WMS base URL; webhooks go to URL/webhooks/starshipit.")
@click.option("--secret", default=None, help="Webhook secret (default: STARSHIPIT_WEBHOOK_SECRET).")
@click.option("--rate-limit", default=0.0, show_default=True, help="API requests/s per key (2 or 20); 0 is no limit.")
@click.option("--skus-file", type=click.Path(exists=True, dir_okay=False), default=None, help="One SKU a line.")
@click.option("--skus", default=None, help="Comma-separated SKUs for random orders.")
@click.option("--seed", default=None, type=int, help="Random seed (also the replay's).")
@click.option("--replay", "replay_orders", default=0, show_default=True, help="Replay N orders' events at start.")
@click.option("--duplicates", default=0.0, show_default=True, help="Replay: chance each event is sent again.")
@click.option("--shuffle", is_flag=True, help="Replay: deliver events in random order.")
@click.option("--demo", is_flag=True, help="Create an order every few seconds and ship some.")
@click.option("--demo-interval", default=4.0, show_default=True)
@click.option("--no-order-events", is_flag=True, help="Send only tracking webhooks (Starshipit as it is today).")
@click.option("--no-tracking", is_flag=True, help="Send only order events.")
@click.option("--senders", default=4, show_default=True, help="Webhook sender threads.")
@click.option("--verbose", is_flag=True, help="Log every HTTP request.")
def simulator_command(port, host, wms_url, secret, rate_limit, skus_file, skus, seed, replay_orders, duplicates,
                      shuffle, demo, demo_interval, no_order_events, no_tracking, senders, verbose):
    """Run the Starshipit simulator: its API under /api/, controls under /_sim/."""
    if secret is None:
        secret = os.environ.get("STARSHIPIT_WEBHOOK_SECRET", "")
    sim = Simulator(
        port=port, host=host, wms_url=wms_url, secret=secret,
        api_key=os.environ.get("STARSHIPIT_API_KEY", ""),
        subscription_key=os.environ.get("STARSHIPIT_SUBSCRIPTION_KEY", ""),
        rate_limit=rate_limit, skus=_read_skus(skus_file, skus), seed=seed, senders=senders, verbose=verbose,
    )
    sim.store.order_events = not no_order_events
    sim.store.tracking_webhooks = not no_tracking
    click.echo(f"Starshipit simulator on {sim.url} (STARSHIPIT_API_URL={sim.url})", err=False)
    click.echo(f"webhooks -> {sim.deliverer.target_url or 'nowhere (no --wms-url)'}"
               f"{' signed' if secret else ' unsigned'}")
    if replay_orders:
        result = sim.replay(replay_orders, seed=seed if seed is not None else 1, duplicate_rate=duplicates,
                            shuffle=shuffle)
        click.echo(f"replaying {result['orders']} orders: {result['events']} events, {result['deliveries']} deliveries"
                   f" (prefix {result['prefix']})")
    if demo:
        sim.start_demo(demo_interval)
        click.echo(f"demo: a new order every {demo_interval:g}s")
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.deliverer.stop()
