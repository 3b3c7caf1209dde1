from __app__.shared_code.orders import order_total


def price(items: list) -> int:
    return order_total(items)
