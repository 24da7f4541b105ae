"""Bitcoin Cash CashAddr codec, written from the CashAddr specification (spec/cashaddr.md of bitcoincash.org)."""

from dataclasses import dataclass

from .bech32 import CHARSET, Bech32Error, convertbits

_CHARSET_INDEX = {char: value for value, char in enumerate(CHARSET)}
_GENERATORS = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
# The spec's size bits (low three bits of the version byte) -> hash length in bytes.
HASH_SIZES = (20, 24, 28, 32, 40, 48, 56, 64)
CHECKSUM_LENGTH = 8


class CashAddrError(ValueError):
    """The text breaks a CashAddr rule; the message says which, in plain words."""


@dataclass(frozen=True)
class CashAddress:
    """A decoded CashAddr: prefix (network), address type (0 P2PKH, 1 P2SH, ...) and hash."""

    prefix: str
    kind: int
    hash: bytes


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 35
        checksum = ((checksum & 0x07FFFFFFFF) << 5) ^ value
        for i, generator in enumerate(_GENERATORS):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum ^ 1


def _prefix_expand(prefix: str) -> list[int]:
    # The spec checksums only the low five bits of each prefix character, then a zero for the ':'.
    return [ord(c) & 0x1F for c in prefix] + [0]


def encode(prefix: str, data: list[int]) -> str:
    """Join prefix, ':', the 5-bit data and its 40-bit checksum (lowercase)."""
    polymod = _polymod(_prefix_expand(prefix) + data + [0] * CHECKSUM_LENGTH)
    checksum = [(polymod >> 5 * (CHECKSUM_LENGTH - 1 - i)) & 0x1F for i in range(CHECKSUM_LENGTH)]
    return prefix + ":" + "".join(CHARSET[d] for d in data + checksum)


def decode(text: str, default_prefix: str) -> tuple[str, list[int]]:
    """Split a CashAddr into its lowercase prefix and 5-bit data (checksum removed); a missing prefix means default_prefix."""
    # The spec lets the whole string be upper case (QR codes) but never a mix, prefix included.
    if text.lower() != text and text.upper() != text:
        raise CashAddrError("mixed upper and lower case: type the address either all in lower case or all in upper case")
    text = text.lower()
    prefix, separator, payload = text.rpartition(":")
    if not separator:
        prefix = default_prefix
    elif not prefix:
        raise CashAddrError("the address has nothing before its ':'")
    if not prefix.isascii() or not prefix.isalpha():
        raise CashAddrError(f"'{prefix}:' is not a CashAddr prefix (prefixes are letters only, like 'bitcoincash:')")
    data: list[int] = []
    for char in payload:
        value = _CHARSET_INDEX.get(char)
        if value is None:
            if char.isspace():
                raise CashAddrError("the address contains a space or line break")
            raise CashAddrError(f"the character {char!r} is not allowed in a CashAddr address")
        data.append(value)
    if len(data) < CHECKSUM_LENGTH:
        raise CashAddrError("the address is too short")
    if _polymod(_prefix_expand(prefix) + data) != 0:
        raise CashAddrError("the checksum does not match: a character is mistyped")
    return prefix, data[:-CHECKSUM_LENGTH]


def decode_address(text: str, default_prefix: str) -> CashAddress:
    """Decode a CashAddr address and check its version byte against the length of its hash."""
    prefix, data = decode(text, default_prefix)
    try:
        payload = bytes(convertbits(data, 5, 8, False))
    except Bech32Error as error:
        raise CashAddrError(str(error)) from None
    if not payload:
        raise CashAddrError("the address has no content")
    version, hash_ = payload[0], payload[1:]
    if version & 0x80:
        raise CashAddrError("the address uses a reserved version bit: it is not a Bitcoin Cash address")
    expected = HASH_SIZES[version & 0x07]
    if len(hash_) != expected:
        raise CashAddrError(f"wrong length for a Bitcoin Cash address: its version byte announces {expected} bytes, it holds {len(hash_)}")
    return CashAddress(prefix, version >> 3, hash_)


def encode_address(prefix: str, kind: int, hash_: bytes) -> str:
    """Encode a CashAddr address from its prefix, type (0..15) and hash (one of HASH_SIZES long)."""
    if not 0 <= kind <= 15:
        raise CashAddrError(f"address type {kind} is outside 0..15")
    if len(hash_) not in HASH_SIZES:
        raise CashAddrError(f"a CashAddr hash cannot be {len(hash_)} bytes long")
    version = (kind << 3) | HASH_SIZES.index(len(hash_))
    return encode(prefix, convertbits(bytes([version]) + hash_, 8, 5, True))
