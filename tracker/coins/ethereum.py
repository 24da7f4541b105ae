"""Ethereum addresses with the EIP-55 mixed-case checksum (Keccak-256, not NIST SHA3-256)."""

from Crypto.Hash import keccak

from .errors import InvalidAddress

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the pre-standard padding; hashlib.sha3_256 gives different digests)."""
    return keccak.new(data=data, digest_bits=256).digest()


def to_checksum_address(hex_digits: str) -> str:
    """Return '0x' and the 40 hex digits with EIP-55 capitals: a letter is upper case when its nibble of keccak(lowercase hex) is >= 8."""
    lower = hex_digits.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(char.upper() if int(nibble, 16) >= 8 else char for char, nibble in zip(lower, digest, strict=False))  # the digest is longer: its first 40 nibbles


def validate_eth_address(text: str) -> str:
    """Return the EIP-55 form of an Ethereum address, refusing a mixed-case one whose capitals are wrong."""
    if not text.startswith("0x"):
        if len(text) == 40 and set(text) <= _HEX_DIGITS:
            raise InvalidAddress("an Ethereum address starts with 0x: add it before the 40 hex digits")
        raise InvalidAddress("an Ethereum address starts with 0x followed by 40 hex digits")
    digits = text[2:]
    for char in digits:
        if char not in _HEX_DIGITS:
            raise InvalidAddress(f"the character {char!r} is not allowed in an Ethereum address (only 0-9 and a-f)")
    if len(digits) != 40:
        raise InvalidAddress(f"wrong length for an Ethereum address: {len(digits)} hex digits after 0x instead of 40")
    checksummed = to_checksum_address(digits)
    # EIP-55: single-case input carries no checksum, so it can only be accepted as it is; mixed case must match exactly.
    if digits in (digits.lower(), digits.upper()):
        return checksummed
    if checksummed[2:] != digits:
        raise InvalidAddress("the checksum does not match: a character is mistyped, or a letter has the wrong case")
    return checksummed
