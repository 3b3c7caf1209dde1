def parse_order(customer: str, items: list) -> dict:
    return {"customer": customer, "items": items}


def order_total(items: list) -> int:
    return sum(item["quantity"] * item["price"] for item in items)
