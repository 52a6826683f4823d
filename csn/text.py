"""Text that the database and a JSON response can carry."""


def text_storable(text: str) -> bool:
    """False for text with a NUL (PostgreSQL's text and jsonb cannot store U+0000) or a lone surrogate
    (`"\\ud800"` in JSON parses to a str with no UTF-8 encoding: neither the database nor a response
    can carry it)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """`text` with any lone surrogate written as `\\udXXX`, so a message quoting client input can be sent."""
    return text.encode("utf-8", "backslashreplace").decode()
