import durable_azure as df


def entity_function(context: df.DurableEntityContext):
    """`add` adds to a count; any other operation keeps what it received, to show what a signal delivered."""
    if context.operation_name == "add":
        context.set_state(context.get_state(lambda: 0) + context.get_input())
        return
    value = context.get_input()
    context.set_state({"operation": context.operation_name, "input": value, "type": type(value).__name__})


main = df.Entity.create(entity_function)
