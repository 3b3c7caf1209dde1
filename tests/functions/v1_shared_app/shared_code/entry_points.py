"""Entry points that function.json files name with a scriptFile outside their own folder."""

import azure.functions as func


def describe(note: str, context: func.Context) -> dict:
    return {
        "note": note,
        "module": __name__,
        "function_name": context.function_name,
        "function_directory": context.function_directory,
    }
