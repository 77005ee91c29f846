"""The ERP (`erp`): customer master data, orders, invoices and payments.

The ERP knows customers by its own code ("C0123456"). It learns the CRM id
only when sales pass it on, and an email only sometimes (accounts an agent
opened by phone were typed in capitals by the back office). Orders from the
web shop arrive in real time; B2B orders are entered by agents or by phone.
"""

from __future__ import annotations

from typing import Literal

from percorso.demo.calendar import DAY, MINUTE, office_time
from percorso.demo.people import Person, email_as_typed, phone_as_typed
from percorso.demo.rows import IdentifierKind, dumps
from percorso.demo.website import Line, total
from percorso.demo.world import World

OrderChannel = Literal["web", "agente", "telefono", "abbonamento"]
ERP_SPACE = 10_000_000


def erp_code(person: Person) -> str:
    """Customer codes look unrelated to CRM ids: a fixed permutation of the person's number."""
    return f"C{(person.index * 7_368_787 + 104_729) % ERP_SPACE:07d}"


def create_customer(world: World, person: Person, moment: int, *, email: float, crm: float) -> bool:
    """Open the customer account; `email` and `crm` are the chances the ERP records those."""
    rng = world.rng
    if person.erp_id is not None:
        return True
    code = erp_code(person)
    traits: dict[str, object] = {"erp_id": code, "city": person.city}
    identifiers: list[tuple[IdentifierKind, str]] = [("erp_id", code)]
    if person.company:
        traits["company"] = person.company
        traits["vat_number"] = ("IT" if rng.random() < 0.5 else "") + (person.vat_number or "")
    else:
        traits["name"] = f"{person.first_name} {person.last_name}"
    if person.crm_id is not None and rng.random() < crm:
        traits["crm_id"] = person.crm_id
        identifiers.append(("crm_id", person.crm_id))
    if rng.random() < email:
        legacy = person.origin == "agente"
        traits["email"] = (
            person.email.upper()
            if legacy and rng.random() < 0.6
            else email_as_typed(rng, person.email, 0.1)
        )
        identifiers.append(("email", person.email))
    if person.origin == "agente" or rng.random() < 0.3:
        traits["phone"] = phone_as_typed(rng, person.phone)
        identifiers.append(("phone", person.phone))
    if not world.rows.add(
        person,
        moment,
        "erp",
        "identify",
        "identify",
        channel=world.channel("erp"),
        user_id=code,
        traits=dumps(traits),
        identifiers=tuple(identifiers),
    ):
        return False
    person.erp_id = code
    return True


def place_order(
    world: World,
    person: Person,
    moment: int,
    order_id: str,
    lines: list[Line],
    channel: OrderChannel,
    *,
    web_order_id: str | None = None,
) -> bool:
    """Order, invoice and payment as the ERP records them; False past the end of history."""
    rng = world.rng
    assert person.erp_id is not None
    erp = world.channel("erp")
    amount = total(lines)
    props: dict[str, object] = {
        "order_id": order_id,
        "total": amount,
        "currency": "EUR",
        "channel": channel,
        "lines": [
            {"sku": sku, "name": name, "qty": qty, "price": price}
            for sku, name, price, qty in lines
        ],
    }
    if web_order_id:
        props["web_order_id"] = web_order_id
    if not world.rows.add(
        person,
        moment,
        "erp",
        "track",
        "order_placed",
        channel=erp,
        user_id=person.erp_id,
        properties=dumps(props),
    ):
        return False
    invoice = "FT-" + order_id.removeprefix("OV-")
    b2c = person.persona == "privato"
    issued = moment + int(rng.uniform(2, 30) * MINUTE) if b2c else office_time(rng, moment, 2)
    due_days = 0 if b2c else rng.choice((30, 60))
    world.rows.add(
        person,
        issued,
        "erp",
        "track",
        "invoice_issued",
        channel=erp,
        user_id=person.erp_id,
        properties=dumps(
            {
                "invoice_id": invoice,
                "order_id": order_id,
                "total": amount,
                "currency": "EUR",
                "due_days": due_days,
            }
        ),
    )
    if b2c:
        paid, method = issued + MINUTE, "carta"
    else:
        late = rng.random()
        if late < 0.03:
            return True  # never paid (yet): the credit department's problem
        extra = rng.uniform(20, 90) if late < 0.12 else rng.uniform(-5, 3)
        paid = office_time(rng, issued + int((due_days + extra) * DAY))
        method = rng.choice(("bonifico", "bonifico", "riba"))
    world.rows.add(
        person,
        paid,
        "erp",
        "track",
        "payment_received",
        channel=erp,
        user_id=person.erp_id,
        properties=dumps(
            {"invoice_id": invoice, "amount": amount, "currency": "EUR", "method": method}
        ),
    )
    return True
