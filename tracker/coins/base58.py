"""Bitcoin's Base58 and Base58Check codecs (as used by Bitcoin Core's base58.cpp and BIP13 addresses)."""

import hashlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}

# Characters people mistake for Base58 ones; naming them makes the error message useful.
_LOOKALIKES = {"0": "zero", "O": "capital O", "I": "capital I", "l": "lower-case L"}


class Base58Error(ValueError):
    """The text is not Base58, or its Base58Check checksum does not match."""


def b58encode(data: bytes) -> str:
    """Encode bytes as Base58; every leading zero byte becomes a leading '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Decode Base58 text; raise Base58Error naming the first character outside the alphabet."""
    number = 0
    for char in text:
        value = _INDEX.get(char)
        if value is None:
            raise Base58Error(bad_character_message(char))
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def bad_character_message(char: str) -> str:
    """Say which character is not allowed, spelling out the ones that look like allowed ones."""
    if char in _LOOKALIKES:
        return f"the character '{char}' ({_LOOKALIKES[char]}) is not allowed: it is easily confused, so addresses never use it"
    if char.isspace():
        return "the address contains a space or line break"
    return f"the character {char!r} is not allowed in this kind of address"


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58check_encode(payload: bytes) -> str:
    """Append the 4-byte double-SHA256 checksum and encode as Base58."""
    return b58encode(payload + _checksum(payload))


def b58check_decode(text: str) -> bytes:
    """Decode Base58Check text and return the payload without its checksum."""
    raw = b58decode(text)
    if len(raw) < 4:
        raise Base58Error("the address is too short")
    payload, checksum = raw[:-4], raw[-4:]
    if _checksum(payload) != checksum:
        raise Base58Error("the checksum does not match: a character is mistyped")
    return payload
