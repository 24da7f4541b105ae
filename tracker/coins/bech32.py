"""Bech32 (BIP173) and Bech32m (BIP350) strings and segwit addresses, written from the two BIPs."""

from dataclasses import dataclass
from enum import Enum

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {char: value for value, char in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 90  # BIP173: longer strings are invalid (the checksum's guarantees stop there)


class Encoding(Enum):
    """Which checksum constant a string uses: BIP173's 1 or BIP350's 0x2bc830a3."""

    BECH32 = 1
    BECH32M = 0x2BC830A3


class Bech32Error(ValueError):
    """The text breaks a BIP173/BIP350 rule; the message says which, in plain words."""


@dataclass(frozen=True)
class SegwitAddress:
    """A decoded segwit address: its human-readable part, witness version and program."""

    hrp: str
    version: int
    program: bytes

    def script_pubkey(self) -> bytes:
        """The output script the address stands for (BIP141: OP_n followed by a push of the program)."""
        opcode = 0 if self.version == 0 else 0x50 + self.version
        return bytes([opcode, len(self.program)]) + self.program


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: list[int], encoding: Encoding) -> list[int]:
    polymod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ encoding.value
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def bech32_encode(hrp: str, data: list[int], encoding: Encoding) -> str:
    """Join hrp, '1', the 5-bit data and its checksum; the result is lowercase."""
    combined = data + _create_checksum(hrp, data, encoding)
    return hrp + "1" + "".join(CHARSET[d] for d in combined)


def bech32_decode(text: str) -> tuple[str, list[int], Encoding]:
    """Split a Bech32/Bech32m string into hrp and 5-bit data (checksum removed) and say which checksum it uses."""
    for char in text:
        if not 33 <= ord(char) <= 126:
            if char.isspace():
                raise Bech32Error("the address contains a space or line break")
            raise Bech32Error(f"the character {char!r} is not allowed in this kind of address")
    # BIP173: decoders must not accept strings that mix cases; all-uppercase is fine (QR codes).
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixed upper and lower case: type the address either all in lower case or all in upper case")
    if len(text) > MAX_LENGTH:
        raise Bech32Error(f"the address is too long ({len(text)} characters; at most {MAX_LENGTH})")
    text = text.lower()
    separator = text.rfind("1")
    if separator == -1:
        raise Bech32Error("the address has no '1' separating its prefix from its data")
    if separator == 0:
        raise Bech32Error("the address has no prefix before the '1' separator")
    if separator + 7 > len(text):
        raise Bech32Error("the address is too short after the '1' separator")
    hrp = text[:separator]
    data: list[int] = []
    for char in text[separator + 1 :]:
        value = _CHARSET_INDEX.get(char)
        if value is None:
            raise Bech32Error(f"the character {char!r} is not allowed after the '1' of this kind of address")
        data.append(value)
    polymod = _polymod(_hrp_expand(hrp) + data)
    for encoding in Encoding:
        if polymod == encoding.value:
            return hrp, data[:-6], encoding
    raise Bech32Error("the checksum does not match: a character is mistyped")


def convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    """Regroup a sequence of frombits-wide values into tobits-wide ones (BIP173's 8<->5 bit step)."""
    accumulator = 0
    bits = 0
    result: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise Bech32Error("a value does not fit the bit width")
        accumulator = (accumulator << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            result.append((accumulator >> bits) & maxv)
    if pad:
        if bits:
            result.append((accumulator << (tobits - bits)) & maxv)
    # Without padding, leftovers must be fewer than frombits bits and all zero (BIP173 decoding rule).
    elif bits >= frombits or (accumulator << (tobits - bits)) & maxv:
        raise Bech32Error("the address has invalid padding at its end: a character is missing, extra or mistyped")
    return result


def decode_segwit(text: str) -> SegwitAddress:
    """Decode a segwit address of any hrp, enforcing BIP173/BIP350 version, length and checksum rules."""
    hrp, data, encoding = bech32_decode(text)
    if not data:
        raise Bech32Error("the address has no data after its prefix")
    version = data[0]
    if version > 16:
        raise Bech32Error(f"the address uses an unknown witness version ({version}); segwit versions go from 0 to 16")
    program = bytes(convertbits(data[1:], 5, 8, False))
    if not 2 <= len(program) <= 40:
        raise Bech32Error(f"wrong length for a segwit address: a {len(program)}-byte program (2 to 40 allowed)")
    if version == 0 and len(program) not in (20, 32):
        raise Bech32Error(f"wrong length for a segwit version 0 address: a {len(program)}-byte program (20 or 32 allowed)")
    # BIP350: version 0 keeps the bech32 checksum, versions 1+ must use bech32m.
    expected = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    if encoding is not expected:
        raise Bech32Error(
            "the checksum does not match: a character is mistyped "
            f"(or it was made with {encoding.name.lower()} where witness version {version} needs {expected.name.lower()})"
        )
    return SegwitAddress(hrp, version, program)


def encode_segwit(hrp: str, version: int, program: bytes) -> str:
    """Encode a segwit address, refusing anything decode_segwit would refuse."""
    if not 0 <= version <= 16:
        raise Bech32Error(f"witness version {version} is outside 0..16")
    encoding = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    text = bech32_encode(hrp, [version] + convertbits(program, 8, 5, True), encoding)
    decoded = decode_segwit(text)  # re-check every rule (length, case of hrp, program size) in one place
    if decoded != SegwitAddress(hrp, version, bytes(program)):
        raise Bech32Error("the prefix must be lower case")
    return text
