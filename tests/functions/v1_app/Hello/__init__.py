from .greeting import greet


def main(name: str) -> str:
    return greet(name)
