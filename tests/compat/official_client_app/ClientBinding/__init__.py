def main(unused: None, starter: str) -> str:
    return starter
