import durable_azure as df


def tally(context: df.DurableEntityContext):
    """A tally: `add` an amount, `get` the total, `clear` it."""
    total = context.get_state(lambda: 0)
    if context.operation_name == "add":
        total += context.get_input()
    elif context.operation_name == "clear":
        total = 0
    context.set_state(total)
    context.set_result(total)


main = df.Entity.create(tally)
