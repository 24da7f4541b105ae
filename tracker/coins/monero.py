"""Monero addresses: Monero's block-wise Base58, varint network prefixes and Keccak-256 checksum."""

# Written from Monero's documentation of its address format (varint prefix || public spend key ||
# public view key [|| payment id] || first 4 bytes of Keccak-256) and from the behaviour its own
# tests pin down (tests/unit_tests/base58.cpp: 8-byte blocks -> 11 characters).

from dataclasses import dataclass

from .base58 import ALPHABET, bad_character_message
from .errors import InvalidAddress, wrong_network
from .ethereum import keccak256

_INDEX = {char: value for value, char in enumerate(ALPHABET)}
FULL_BLOCK_SIZE = 8
FULL_ENCODED_BLOCK_SIZE = 11
# Bytes in a block (0..8) -> characters it encodes to; the gaps (1, 4, 8 chars) are never produced.
ENCODED_BLOCK_SIZES = (0, 2, 3, 5, 6, 7, 9, 10, 11)
_DECODED_BLOCK_SIZES = {chars: size for size, chars in enumerate(ENCODED_BLOCK_SIZES)}
CHECKSUM_SIZE = 4
KEY_SIZE = 32
PAYMENT_ID_SIZE = 8
STANDARD_LENGTH = 95
INTEGRATED_LENGTH = 106

# Network -> address type -> varint prefix (Monero's cryptonote_config.h).
PREFIXES: dict[str, dict[str, int]] = {
    "mainnet": {"standard": 18, "integrated": 19, "subaddress": 42},
    "testnet": {"standard": 53, "integrated": 54, "subaddress": 63},
    "stagenet": {"standard": 24, "integrated": 25, "subaddress": 36},
}
_BY_PREFIX = {prefix: (network, kind) for network, kinds in PREFIXES.items() for kind, prefix in kinds.items()}


class MoneroBase58Error(ValueError):
    """The text is not valid Monero Base58, or its checksum or prefix is wrong."""


@dataclass(frozen=True)
class MoneroAddress:
    """A decoded Monero address; payment_id is set only for integrated addresses."""

    network: str
    kind: str
    spend_key: bytes
    view_key: bytes
    payment_id: bytes | None = None


def encode_block(block: bytes) -> str:
    """Encode up to 8 bytes as a fixed number of characters, left-padded with '1'."""
    if not 1 <= len(block) <= FULL_BLOCK_SIZE:
        raise ValueError("a Monero Base58 block holds 1 to 8 bytes")
    number = int.from_bytes(block, "big")
    chars = []
    for _ in range(ENCODED_BLOCK_SIZES[len(block)]):
        number, remainder = divmod(number, 58)
        chars.append(ALPHABET[remainder])
    return "".join(reversed(chars))


def decode_block(text: str) -> bytes:
    """Decode one block, refusing impossible lengths and values that overflow the block's byte size."""
    size = _DECODED_BLOCK_SIZES.get(len(text), 0)
    if size == 0:
        plural = "" if len(text) == 1 else "s"
        raise MoneroBase58Error(f"wrong length: Monero Base58 text cannot end in a block of {len(text)} character{plural}")
    number = 0
    for char in text:
        value = _INDEX.get(char)
        if value is None:
            raise MoneroBase58Error(bad_character_message(char))
        number = number * 58 + value
    if number >> (8 * size):
        raise MoneroBase58Error("the checksum does not match: a character is mistyped")
    return number.to_bytes(size, "big")


def b58encode(data: bytes) -> str:
    """Encode bytes in 8-byte blocks, each to 11 characters (a shorter last block to fewer)."""
    return "".join(encode_block(data[i : i + FULL_BLOCK_SIZE]) for i in range(0, len(data), FULL_BLOCK_SIZE))


def b58decode(text: str) -> bytes:
    """Decode Monero Base58 text block by block."""
    return b"".join(
        decode_block(text[i : i + FULL_ENCODED_BLOCK_SIZE]) for i in range(0, len(text), FULL_ENCODED_BLOCK_SIZE)
    )


def encode_varint(value: int) -> bytes:
    """Little-endian base-128 varint, as Monero writes address prefixes."""
    if value < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes) -> tuple[int, int]:
    """Read a varint of at most 64 bits; return (value, bytes read)."""
    value = 0
    for i, byte in enumerate(data):
        if i and byte == 0:
            raise MoneroBase58Error("the address prefix is not written canonically")  # Monero refuses padded varints too
        value |= (byte & 0x7F) << (7 * i)
        if value >> 64:
            raise MoneroBase58Error("the address prefix is too large")
        if not byte & 0x80:
            return value, i + 1
    raise MoneroBase58Error("the address prefix is cut short")


def encode_tagged(tag: int, data: bytes) -> str:
    """Encode varint(tag) || data || keccak256(...)[:4] (Monero's base58::encode_addr)."""
    body = encode_varint(tag) + data
    return b58encode(body + keccak256(body)[:CHECKSUM_SIZE])


def decode_tagged(text: str) -> tuple[int, bytes]:
    """Decode and checksum-check an address-like string; return its varint tag and the data after it."""
    raw = b58decode(text)
    if len(raw) < CHECKSUM_SIZE:
        raise MoneroBase58Error("the address is too short")
    body, checksum = raw[:-CHECKSUM_SIZE], raw[-CHECKSUM_SIZE:]
    if keccak256(body)[:CHECKSUM_SIZE] != checksum:
        raise MoneroBase58Error("the checksum does not match: a character is mistyped")
    tag, used = decode_varint(body)
    return tag, body[used:]


def encode_address(network: str, kind: str, spend_key: bytes, view_key: bytes, payment_id: bytes | None = None) -> str:
    """Build an address from its public keys (and an 8-byte payment id for an integrated one)."""
    if len(spend_key) != KEY_SIZE or len(view_key) != KEY_SIZE:
        raise ValueError("Monero public keys are 32 bytes each")
    if (kind == "integrated") != (payment_id is not None):
        raise ValueError("a payment id goes with, and only with, an integrated address")
    if payment_id is not None and len(payment_id) != PAYMENT_ID_SIZE:
        raise ValueError("an integrated address carries an 8-byte payment id")
    return encode_tagged(PREFIXES[network][kind], spend_key + view_key + (payment_id or b""))


def decode_address(text: str) -> MoneroAddress:
    """Decode a Monero address of any network and type, checking length, checksum and prefix."""
    for char in text:
        if char not in _INDEX:
            raise InvalidAddress(bad_character_message(char))
    if len(text) not in (STANDARD_LENGTH, INTEGRATED_LENGTH):
        raise InvalidAddress(
            f"wrong length for a Monero address: {len(text)} character{'s' if len(text) != 1 else ''} "
            f"({STANDARD_LENGTH}, or {INTEGRATED_LENGTH} for an integrated address)"
        )
    try:
        tag, data = decode_tagged(text)
    except MoneroBase58Error as error:
        raise InvalidAddress(str(error)) from None
    if tag not in _BY_PREFIX:
        raise InvalidAddress("this is not a Monero address (its network prefix is unknown)")
    network, kind = _BY_PREFIX[tag]
    expected = 2 * KEY_SIZE + (PAYMENT_ID_SIZE if kind == "integrated" else 0)
    if len(data) != expected:
        raise InvalidAddress(f"wrong length for a Monero {kind} address")
    # The two keys should also be points on ed25519 (Monero's crypto::check_key); checking that
    # needs curve arithmetic this module does not carry, and the checksum already catches typos.
    payment_id = data[2 * KEY_SIZE :] if kind == "integrated" else None
    return MoneroAddress(network, kind, data[:KEY_SIZE], data[KEY_SIZE : 2 * KEY_SIZE], payment_id)


def validate_xmr_address(text: str, network: str) -> str:
    """Return a Monero address unchanged if it belongs to network, else raise InvalidAddress."""
    address = decode_address(text)
    if address.network != network:
        raise wrong_network(address.network, network)
    return text


def integrated_address(standard_address: str, payment_id_hex: str) -> str:
    """Combine a standard address with a 16-hex-digit payment id into an integrated address."""
    address = decode_address(standard_address)
    if address.kind != "standard":
        raise InvalidAddress(f"only a standard address can be made integrated, not a {address.kind} one")
    if len(payment_id_hex) != 2 * PAYMENT_ID_SIZE or not all(c in "0123456789abcdefABCDEF" for c in payment_id_hex):
        raise ValueError("a payment id is exactly 16 hex digits")
    return encode_address(address.network, "integrated", address.spend_key, address.view_key, bytes.fromhex(payment_id_hex))
