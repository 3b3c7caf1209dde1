def main(name: str) -> str:
    return f"Hi {name}"
