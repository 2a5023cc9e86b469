"""Outbound routing: which orders the WMS picks and packs itself (WMS) and which Starshipit picks
and ships while the WMS mirrors them (STARSHIPIT, as every order was before).

The rules are an ordered list; the first enabled rule whose match holds routes the order, and an
order no rule matches goes to DEFAULT_ROUTE (STARSHIPIT). A rule's match is an object with any of
MATCH_KEYS, all of which must hold ({} matches every order):

- warehouse, channel, country, account: the order's equals it, ignoring case;
- reference_prefix: the order's reference starts with it, ignoring case;
- skus_any: at least one of the order's SKUs is in the list;
- skus_all: every SKU of the order is in the list (an order of SKUs the WMS handles only).

An order is routed when Starshipit's order_created or order_changed is applied (in that event's
transaction, app.orders.events), unless a manager routed it by hand; a manager may route one by
hand until it is picked (FIXED_STATUSES). Changing the rules routes the orders that arrive or
change afterwards; orders already routed keep their route.

`route_for` decides over plain data (unit-tested without a database); the rest are the use cases
the pages and the API call.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlmodel import Session

from app import bounds
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import DEFAULT_ROUTE, ROUTES, Order, OrderLine, OrderStatus, RoutingRule, User, Warehouse
from app.orders import mirror
from app.outbound import allocation
from app.timeutil import utcnow

TEXT_KEYS = ("warehouse", "channel", "reference_prefix", "country", "account")
LIST_KEYS = ("skus_any", "skus_all")
ITEM_KEYS = ("name", "enabled", "match", "outcome")
STORED_KEYS = ("id", "position")  # what list_rules adds to an item; the list's order is its position
FACT_KEYS = ("warehouse", "channel", "reference", "country", "account", "skus")
# Once picking has started (PICKING, PICKED, PACKED: set by the WMS pick and pack still to come)
# or the order has shipped or been cancelled, its route no longer changes, by hand or by a rule.
FIXED_STATUSES = frozenset({
    OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKED,
    OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELLED,
})
KEY_LABELS = {
    "warehouse": "warehouse", "channel": "channel", "reference_prefix": "reference prefix", "country": "country",
    "skus_any": "any of these SKUs", "skus_all": "only these SKUs", "account": "Starshipit account",
}
MATCH_KEYS = tuple(KEY_LABELS)  # in the order the page and the messages list them


# ---- the decision (plain data) --------------------------------------------------------------


def _fold(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value.casefold() if value else None


def matches(match: Mapping, facts: Mapping) -> bool:
    """Whether every key of `match` holds for the order's facts (a fact the order lacks never
    holds). `facts`: warehouse, channel, reference, country, account (text or None), skus (list)."""
    for key, wanted in match.items():
        if key in LIST_KEYS:
            skus = {s for s in (_fold(sku) for sku in facts.get("skus") or ()) if s}
            listed = {_fold(sku) for sku in wanted}
            if key == "skus_any" and not skus & listed:
                return False
            if key == "skus_all" and (not skus or not skus <= listed):
                return False
        elif key == "reference_prefix":
            reference = _fold(facts.get("reference"))
            if reference is None or not reference.startswith(_fold(wanted) or ""):
                return False
        elif key in TEXT_KEYS:
            have = _fold(facts.get(key))
            if have is None or have != _fold(wanted):
                return False
        else:
            return False  # a key no rule may hold (refused when saved): never matches
    return True


def route_for(rules: Iterable[Mapping], order_facts: Mapping) -> tuple[str, str | None]:
    """(outcome, the name of the rule that chose it): the first enabled rule whose match holds,
    or (DEFAULT_ROUTE, None) when none does. Rules are plain dicts: name, enabled, match, outcome."""
    for rule in rules:
        if rule.get("enabled", True) and matches(rule.get("match") or {}, order_facts):
            return rule["outcome"], rule["name"]
    return str(DEFAULT_ROUTE), None


# ---- checking a rule as a person or a client wrote it -----------------------------------------


def _where(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def check_outcome(value, field: str = "outcome") -> str:
    if isinstance(value, str) and value.strip().upper() in ROUTES:
        return value.strip().upper()
    raise ValidationFailed(f"{field.replace('_', ' ')} must be WMS or STARSHIPIT, not {bounds.shown(value)!r}",
                           field=field)


def check_match(value, where: str = "match") -> dict:
    """A rule's match as stored: known keys only, each of its type and within its bounds; SKU
    lists without repeats (ignoring case). ValidationFailed naming the field (`where`.key)."""
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{where} must be an object of what to match ({', '.join(MATCH_KEYS)}); "
                               "{} matches every order", field=where)
    clean: dict = {}
    for key, wanted in value.items():
        field = _where(where, str(key))
        if key not in MATCH_KEYS:
            raise ValidationFailed(f"a rule cannot match on {bounds.shown(key)!r}; it matches on "
                                   f"{', '.join(MATCH_KEYS)}", field=field)
        label = KEY_LABELS[key]
        if key in LIST_KEYS:
            clean[key] = _sku_list(wanted, field, label)
        elif key == "warehouse":
            if not isinstance(wanted, str):
                raise ValidationFailed(f"{label} must be a warehouse code", field=field)
            clean[key] = bounds.code(wanted, field, max_length=bounds.WAREHOUSE_CODE_MAX, label=label).upper()
        else:
            if not isinstance(wanted, str):
                raise ValidationFailed(f"{label} must be text", field=field)
            clean[key] = bounds.text(wanted, field, max_length=bounds.ROUTE_MATCH_TEXT_MAX, label=label)
    return clean


def _sku_list(value, field: str, label: str) -> list[str]:
    if not isinstance(value, list):
        raise ValidationFailed(f"{label} must be a list of SKUs", field=field)
    if not value:
        raise ValidationFailed(f"{label} names no SKU; leave it out to match any order", field=field)
    if len(value) > bounds.MAX_SKUS_PER_MATCH:
        raise ValidationFailed(f"{label} names {len(value):,} SKUs; a rule names at most {bounds.MAX_SKUS_PER_MATCH:,}",
                               field=field)
    skus: dict[str, str] = {}
    for index, sku in enumerate(value):
        if not isinstance(sku, str):
            raise ValidationFailed(f"{label}: SKU {index + 1} must be text", field=f"{field}.{index}")
        cleaned = bounds.code(sku, f"{field}.{index}", max_length=bounds.SKU_MAX, label=f"{label}: SKU {index + 1}")
        skus.setdefault(cleaned.casefold(), cleaned)
    return list(skus.values())


def check_item(raw, where: str = "") -> dict:
    """One rule as given ({name, enabled?, match, outcome}), checked: {name, enabled, match, outcome}.
    Fields are named under `where` (items.2.match.country; `where` "" names them as a form does)."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed(f"{where or 'a rule'} must be an object with name, match and outcome",
                               field=where or None)
    for key in raw:
        if key not in ITEM_KEYS:
            raise ValidationFailed(f"{bounds.shown(key)!r} is not part of a rule ({', '.join(ITEM_KEYS)})",
                                   field=_where(where, str(key)))
    name = bounds.text(raw.get("name"), _where(where, "name"), max_length=bounds.ROUTING_RULE_NAME_MAX, label="name")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled must be true or false", field=_where(where, "enabled"))
    match = check_match(raw.get("match"), _where(where, "match"))
    return {"name": name, "enabled": enabled, "match": match, "outcome": check_outcome(raw.get("outcome"), _where(where, "outcome"))}


# ---- the rules, stored ------------------------------------------------------------------------


def _plain(rule: RoutingRule) -> dict:
    return {"id": rule.id, "position": rule.position, "name": rule.name, "enabled": rule.enabled,
            "match": json.loads(rule.match), "outcome": rule.outcome}


def list_rules(session: Session) -> list[dict]:
    """Every rule in the order they are tried: {id, position, name, enabled, match, outcome}."""
    return [_plain(rule) for rule in session.scalars(select(RoutingRule).order_by(RoutingRule.position))]


def replace_rules(session: Session, items) -> list[dict]:
    """The ordered list replaced by `items` (first tried first), all or nothing: every item is
    checked (check_item), names are unique ignoring case, a warehouse named must exist. An item
    carrying the `id` of a stored rule keeps it (the manager's page edits one rule of the list, as
    list_rules gave it: its position is ignored, the list's order is what counts)."""
    if not isinstance(items, list):
        raise ValidationFailed("items must be a list of rules", field="items")
    if len(items) > bounds.MAX_ROUTING_RULES:
        raise ValidationFailed(f"{len(items):,} rules; the list holds at most {bounds.MAX_ROUTING_RULES}", field="items")
    clean, names = [], {}
    codes = {code.casefold() for code in session.scalars(select(Warehouse.code))}
    for index, item in enumerate(items):
        rule = check_item({k: v for k, v in item.items() if k not in STORED_KEYS} if isinstance(item, Mapping) else item,
                          f"items.{index}")
        earlier = names.setdefault(rule["name"].casefold(), index)
        if earlier != index:
            raise ValidationFailed(f"rule {index + 1} is named {bounds.shown(rule['name'])!r} like rule {earlier + 1}; "
                                   "each rule needs a name of its own", field=f"items.{index}.name")
        warehouse = rule["match"].get("warehouse")
        if warehouse is not None and warehouse.casefold() not in codes:
            raise ValidationFailed(f"no warehouse {bounds.shown(warehouse)}", field=f"items.{index}.match.warehouse")
        rule["id"] = item.get("id") if isinstance(item, Mapping) and isinstance(item.get("id"), int) else None
        clean.append(rule)
    stored = {rule.id: rule for rule in session.scalars(select(RoutingRule).with_for_update())}
    for rule in stored.values():
        session.delete(rule)
    session.flush()
    now = utcnow()
    for position, rule in enumerate(clean, start=1):
        kept = stored.get(rule["id"])
        session.add(RoutingRule(
            id=kept.id if kept else None, position=position, name=rule["name"], enabled=rule["enabled"],
            match=json.dumps(rule["match"], sort_keys=True, ensure_ascii=False), outcome=rule["outcome"],
            created_at=kept.created_at if kept else now, updated_at=now,
        ))
    session.flush()
    return list_rules(session)


# ---- the manager's page: one rule of the list at a time -----------------------------------------


def _index_of(rules: list[dict], rule_id: int) -> int:
    for index, rule in enumerate(rules):
        if rule["id"] == rule_id:
            return index
    raise NotFound(f"no routing rule {rule_id}: the list may have changed; open it again")


def get_rule(session: Session, rule_id: int) -> dict:
    rules = list_rules(session)
    return rules[_index_of(rules, rule_id)]


def save_rule(session: Session, rule_id: int | None, raw: Mapping) -> dict:
    """Add a rule at the end of the list (rule_id None) or change one in its place. Fields are
    named as the form names them (name, outcome, match.country ...). The saved rule."""
    rule = check_item(raw)
    rules = list_rules(session)
    if rule_id is None:
        if len(rules) >= bounds.MAX_ROUTING_RULES:
            raise ValidationFailed(f"the list holds at most {bounds.MAX_ROUTING_RULES} rules; remove one first",
                                   field="name")
        rules.append(rule)
        index = len(rules) - 1
    else:
        index = _index_of(rules, rule_id)
        rules[index] = {**rule, "id": rule_id}
    try:
        saved = replace_rules(session, rules)
    except ValidationFailed as error:  # named as the list names it: back to the form's names
        prefix = f"items.{index}."
        if error.field and error.field.startswith(prefix):
            error.field = error.field.removeprefix(prefix)
        raise
    return saved[index]


def move_rule(session: Session, rule_id: int, step: int) -> dict:
    """Move a rule one place up (step -1) or down (+1); at either end it stays."""
    rules = list_rules(session)
    index = _index_of(rules, rule_id)
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
        rules = replace_rules(session, rules)
        index = target
    return rules[index]


def set_enabled(session: Session, rule_id: int, enabled: bool) -> dict:
    rules = list_rules(session)
    index = _index_of(rules, rule_id)
    rules[index]["enabled"] = bool(enabled)
    return replace_rules(session, rules)[index]


def delete_rule(session: Session, rule_id: int) -> dict:
    rules = list_rules(session)
    removed = rules.pop(_index_of(rules, rule_id))
    replace_rules(session, rules)
    return removed


# ---- routing orders -----------------------------------------------------------------------------


def account_of(body: Mapping | None) -> str | None:
    """The Starshipit account an event came from (its account.name, child accounts), or None."""
    account = body.get("account") if isinstance(body, Mapping) else None
    name = account.get("name") if isinstance(account, Mapping) else None
    return name.strip() or None if isinstance(name, str) else None


def order_facts(session: Session, order: Order, *, skus: Iterable[str] | None = None,
                account: str | None = None) -> dict:
    """What routing looks at, from the order mirror: its warehouse's code, channel, reference,
    destination country and SKUs (`skus` when the caller has them: the event's lines), and the
    Starshipit account the event came from (the mirror does not keep it)."""
    warehouse = session.get(Warehouse, order.warehouse_id)
    if skus is None:
        skus = session.scalars(select(OrderLine.sku).where(OrderLine.order_id == order.id))
    country = (order.destination or {}).get("country")
    return {
        "warehouse": warehouse.code if warehouse else None,
        "channel": order.channel,
        "reference": order.reference,
        "country": country if isinstance(country, str) else None,
        "account": account,
        "skus": sorted(set(skus)),
    }


def route_order(session: Session, order: Order, *, skus: Iterable[str] | None = None,
                account: str | None = None) -> tuple[str, str | None]:
    """Evaluate the rules for the order and keep the outcome on it: (route, rule name). An order
    routed by hand, or past the point where its route may change (FIXED_STATUSES), keeps its
    route. A change of route is noted on the order's timeline."""
    if order.routed_by_hand or order.status in FIXED_STATUSES:
        return order.route, order.routing_rule_name
    rules = list_rules(session)
    route, rule = route_for(rules, order_facts(session, order, skus=skus, account=account)) if rules else (
        str(DEFAULT_ROUTE), None)
    if (route, rule) != (order.route, order.routing_rule_name):
        order.route, order.routing_rule_name = route, rule
        _note(session, order, f"routed {route} " + (f"by rule {rule!r}" if rule else "by default (no rule matched)"))
    return route, rule


def _note(session: Session, order: Order, message: str) -> None:
    mirror.note(session, order, "routed", message)


def _order_number(value, field: str = "order_number") -> str:
    number = bounds.scan(value if isinstance(value, str) else "", field, label="order number")
    if not number:
        raise ValidationFailed("give an order number", field=field)
    return number


def route_of(order: Order) -> dict:
    return {"order_number": order.order_number, "route": order.route, "rule": order.routing_rule_name,
            "routed_by_hand": order.routed_by_hand, "status": order.status}


def reroute(session: Session, order_number: str, outcome, user_id: int | None) -> dict:
    """A manager routes one order by hand (WMS or STARSHIPIT); from then on no rule routes it.
    Refused (409 route_fixed) once picking has started or the order has shipped or been cancelled."""
    outcome = check_outcome(outcome)
    number = _order_number(order_number)
    order = mirror.lock_existing(session, number)
    if order is None:
        raise NotFound(f"no order {bounds.shown(number)}", field="order_number")
    if order.status in FIXED_STATUSES:
        state = str(order.status).lower().replace("_", " ")
        raise Conflict(f"order {order.order_number} is {state}: its route can no longer change", code="route_fixed",
                       field="outcome")
    user = session.get(User, user_id) if user_id is not None else None
    who = user.username if user is not None else "the API"
    changed = order.route != outcome or not order.routed_by_hand
    routed_before = order.route
    order.route, order.routing_rule_name, order.routed_by_hand = outcome, None, True
    if changed:
        order.updated_at = utcnow()
        _note(session, order, f"routed {outcome} by hand by {who}")
    session.flush()
    # Routed WMS: allocated after the commit; routed away from WMS: what it held is let go now.
    allocation.after_order_event(session, order, routed_before)
    return route_of(order)


def which_rule(session: Session, facts: Mapping) -> dict:
    """The tester: which rule would route this order. `facts` names an order_number (its facts
    from the mirror; an `account` given is used, the mirror does not keep it) or gives the facts
    typed: warehouse, channel, reference, country, account, skus (a list, or text with SKUs
    separated by spaces or commas). {outcome, rule, facts, order} (order: its current route)."""
    order = None
    account = _fact(facts, "account")
    if _fold(facts.get("order_number")):
        number = _order_number(facts.get("order_number"))
        order = session.scalars(select(Order).where(Order.order_number == number)).first()
        if order is None:
            raise NotFound(f"no order {bounds.shown(number)}", field="order_number")
        known = order_facts(session, order, account=account)
    else:
        known = {key: _fact(facts, key) for key in FACT_KEYS if key != "skus"}
        known["skus"] = _skus(facts.get("skus"))
        if not any(known.values()):
            raise ValidationFailed("give an order number, or at least one fact of an order", field="order_number")
    outcome, rule = route_for(list_rules(session), known)
    return {"outcome": outcome, "rule": rule, "facts": known, "order": route_of(order) if order else None}


def _fact(facts: Mapping, key: str) -> str | None:
    value = facts.get(key)
    if value is None:
        return None
    return bounds.text(value if isinstance(value, str) else "", key, max_length=bounds.ROUTE_MATCH_TEXT_MAX,
                       required=False, label=key)


def _skus(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        bounds.text(value, "skus", max_length=bounds.MAX_SKUS_PER_MATCH * (bounds.SKU_MAX + 1), label="SKUs",
                    multiline=True)
        value = sku_words(value)
    return _sku_list(value, "skus", "SKUs")


def sku_words(text: str) -> list[str]:
    """SKUs typed in one box, separated by spaces, commas or lines."""
    return text.replace(",", " ").split()
