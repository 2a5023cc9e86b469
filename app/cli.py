"""The `wms` command: run the app, migrate, create users and tokens, seed, check the ledger, work jobs."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from app import create_app, db


@click.group(cls=FlaskGroup, create_app=create_app)
def main():
    """Starshipit WMS."""


@main.command("init-db")
def init_db():
    """Create or upgrade the schema by running the migrations."""
    from app.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


def _account_change(action, *args, **kwargs):
    """Run one of app.accounts' use cases in a transaction; a refusal is the command's error, in words."""
    from app.errors import WmsError

    try:
        return db.atomic(action, *args, **kwargs)
    except WmsError as error:
        raise click.ClickException(error.message) from None


def _user_id(name: str) -> int:
    from app.accounts import find_user
    from app.errors import WmsError

    try:
        with db.reading() as session:
            return find_user(session, name).id
    except WmsError as error:
        raise click.ClickException(error.message) from None


@main.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["picker", "manager", "admin"]), default="picker", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(name, role, password):
    """Add a person who signs in."""
    from app.accounts import create_user as create

    user = _account_change(create, username=name, password=password, role=role)
    click.echo(f"created {user.role} {user.username}")


@main.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["picker", "manager", "admin"]))
def set_role(name, role):
    """Give a user another role (the last active admin stays an admin)."""
    from app.accounts import set_role as change

    user = _account_change(change, _user_id(name), role)
    click.echo(f"{user.username} is a {user.role}")


@main.command("reset-password")
@click.argument("name")
@click.option("--password", default=None, help="The new password; without it one is made and printed once.")
def reset_password(name, password):
    """Give a user a new password: the one given, or one made and printed once."""
    from app.accounts import reset_password as reset

    done = _account_change(reset, _user_id(name), password)
    click.echo(f"new password for {done.user.username}: {done.made}" if done.made
               else f"password of {done.user.username} changed")


@main.command("deactivate-user")
@click.argument("name")
def deactivate_user(name):
    """Sign a user out at their next request and refuse their sign-in (never the last active admin)."""
    from app.accounts import set_active

    user = _account_change(set_active, _user_id(name), False)
    click.echo(f"{user.username} is deactivated")


@main.command("reactivate-user")
@click.argument("name")
def reactivate_user(name):
    """Let a deactivated user sign in again."""
    from app.accounts import set_active

    user = _account_change(set_active, _user_id(name), True)
    click.echo(f"{user.username} is active again")


@main.command("create-token")
@click.argument("name")
def create_token(name):
    """Make an API token; prints only the token."""
    from app.accounts import create_token as create

    click.echo(_account_change(create, name))


@main.command("list-tokens")
def list_tokens():
    """Every API token: id, status, created, last used, name (never the token: only its digest is kept)."""
    from app.accounts import list_tokens as tokens

    with db.reading() as session:
        for row in tokens(session):
            used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never"
            click.echo(f"{row.id}\t{'active' if row.active else 'revoked'}\t"
                       f"{row.created_at.strftime('%Y-%m-%d %H:%M')}\t{used}\t{row.name}")


@main.command("revoke-token")
@click.argument("token_id")
def revoke_token(token_id):
    """Revoke an API token by its id (see list-tokens): the API refuses it from then on."""
    from app.accounts import revoke_token as revoke

    row = _account_change(revoke, token_id)
    click.echo(f"token {row.id} ({row.name}) is revoked")


@main.command("seed-demo")
@click.option("--products", default=300, show_default=True)
@click.option("--random-seed", default=7, show_default=True)
def seed_demo(products, random_seed):
    """Fill an empty database with a believable warehouse and demo sign-ins."""
    from app import demo

    for line in demo.seed(product_count=products, random_seed=random_seed):
        click.echo(line)


@main.command("export-skus")
def export_skus():
    """Print every product's SKU, one a line (the simulator's demo orders use them)."""
    from sqlmodel import select

    from app.models import Product

    with db.reading() as session:
        for sku in session.exec(select(Product.sku).order_by(Product.sku)):
            click.echo(sku)


@main.command("check-ledger")
def check_ledger():
    """Recompute every balance from the movements; exit 1 naming each difference."""
    from app import ledger

    with db.reading() as session:
        drifts = ledger.check(session)
    for drift in drifts:
        click.echo(f"DRIFT {drift}", err=True)
    if drifts:
        click.echo(f"{len(drifts)} balance(s) differ from the ledger", err=True)
        sys.exit(1)
    click.echo("ledger is consistent: every balance equals its movements")


@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler/--no-scheduler", default=True, show_default=True)
def worker(burst, with_scheduler):
    """Run an RQ worker that works jobs in this process (no fork per job).

    It waits for Redis when Redis is away (at start or later) and never exits for want of it;
    it keeps the periodic Starshipit poll scheduled and hands over again inbox events left
    pending longer than INBOX_STALE_SECONDS. SIGTERM stops it after the current job."""
    from app.worker import run_worker

    run_worker(current_app, burst=burst, with_scheduler=with_scheduler)


@main.command("poll-starshipit")
def poll_starshipit():
    """Poll Starshipit now for orders and shipments the webhooks missed."""
    from app.orders.polling import poll
    from app.starshipit.client import StarshipitError

    try:
        summary = poll()
    except StarshipitError as error:
        raise click.ClickException(f"{error}. Check the Starshipit settings, then poll again.") from None
    click.echo(", ".join(f"{key}: {value}" for key, value in summary.items()))


def _add_simulator() -> None:
    """`wms simulator`: the Starshipit stand-in lives in the simulator package."""
    try:
        from simulator.cli import simulator_command
    except ModuleNotFoundError as error:
        if error.name not in ("simulator", "simulator.cli"):
            raise
        return
    main.add_command(simulator_command, "simulator")


_add_simulator()
