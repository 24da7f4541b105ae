"""Receiving addresses derived from an extended public key (BIP32), one per article and after each payment.

An account-level extended public key (m/purpose'/coin'/account', as a wallet exports it)
derives receiving addresses m/…/0/i without any private key (BIP32 public derivation, done by
`embit`). The key's version bytes say the address type (SLIP-0132):

| prefix | version | addresses |
|---|---|---|
| xpub | 0488b21e | P2PKH (BIP44); CashAddr for BCH |
| zpub | 04b24746 | P2WPKH, native segwit (BIP84) |
| Ltub | 019da462 | Litecoin P2PKH |
| dgub | 02facafd | Dogecoin P2PKH |

Addresses are then written with the tracker's own codecs (`tracker.coins`), so they are the
same canonical text the address validator produces.
"""

from __future__ import annotations

from dataclasses import dataclass

from embit import bip32
from embit.hashes import hash160

from ..coins import InvalidAddress
from ..coins.base58 import Base58Error, b58check_decode, b58check_encode
from ..coins.bech32 import encode_segwit
from ..coins.bitcoin import BITCOIN, DOGECOIN, LITECOIN
from ..coins.cashaddr import encode_address as cashaddr_encode

XPUB = bytes.fromhex("0488b21e")
ZPUB = bytes.fromhex("04b24746")
LTUB = bytes.fromhex("019da462")
DGUB = bytes.fromhex("02facafd")
_PRIVATE = {bytes.fromhex(v) for v in ("0488ade4", "04b2430c", "049d7878", "019d9cfe", "02fac398")}
#: (coin, version) → address type.
_TYPES = {("BTC", XPUB): "p2pkh", ("BTC", ZPUB): "p2wpkh", ("LTC", LTUB): "p2pkh", ("LTC", XPUB): "p2pkh",
          ("LTC", ZPUB): "p2wpkh", ("DOGE", DGUB): "p2pkh", ("DOGE", XPUB): "p2pkh", ("BCH", XPUB): "p2pkh"}
COINS_WITH_KEYS = ("BTC", "BCH", "LTC", "DOGE")
#: The receiving chain (BIP44: 0 external, 1 change).
RECEIVING = 0
MAX_INDEX = 2**31 - 1


@dataclass(frozen=True)
class ExtendedKey:
    """A parsed account-level extended public key of one coin."""

    coin: str
    text: str
    kind: str
    key: bip32.HDKey

    def address(self, index: int) -> str:
        """The receiving address number `index` (m/…/0/index)."""
        if not 0 <= index <= MAX_INDEX:
            raise ValueError("a derivation index is between 0 and 2^31 - 1")
        child = self.key.derive([RECEIVING, index])
        return encode_address(self.coin, self.kind, hash160(child.key.sec()))


def looks_extended(text: str) -> bool:
    """True for text shaped like an extended key (xpub…, zpub…, Ltub…, dgub…, or their private forms)."""
    text = text.strip()
    return len(text) >= 100 and text[:4] in ("xpub", "zpub", "ypub", "Ltub", "Mtub", "dgub", "xprv", "zprv",
                                             "yprv", "Ltpv", "dgpv", "tpub", "vpub", "tprv", "vprv")


def parse_extended_key(coin: str, text: str) -> ExtendedKey:
    """Validate an extended public key for `coin`; InvalidAddress with the reason a person can act on."""
    coin = coin.strip().upper()
    text = text.strip()
    if coin not in COINS_WITH_KEYS:
        raise InvalidAddress(f"{coin} payment methods cannot hold an extended key (only {', '.join(COINS_WITH_KEYS)})")
    try:
        payload = b58check_decode(text)
    except Base58Error as exc:
        raise InvalidAddress(f"this is not an extended public key: {exc}") from None
    if len(payload) != 78:
        raise InvalidAddress("this is not an extended public key (wrong length)")
    version = payload[:4]
    if version in _PRIVATE or payload[45] == 0:
        raise InvalidAddress("this is a private key: give the extended PUBLIC key (xpub, zpub…), never a key "
                             "that can spend")
    kind = _TYPES.get((coin, version))
    if kind is None:
        raise InvalidAddress(f"{text[:4]}… keys are not supported for {coin}: use "
                             f"{' or '.join(sorted({t[:4] for t in _names(coin)}))}")
    if payload[4] != 3:
        raise InvalidAddress("give the account's extended public key (depth 3, m/purpose'/coin'/account'), "
                             f"not one of depth {payload[4]}")
    try:
        key = bip32.HDKey.from_string(b58check_encode(XPUB + payload[4:]))
    except Exception:  # embit raises several types for a point off the curve or a bad key byte
        raise InvalidAddress("this extended public key is invalid (its key is not a point on the curve)") from None
    return ExtendedKey(coin, text, kind, key)


def _names(coin: str) -> list[str]:
    names = {XPUB: "xpub", ZPUB: "zpub", LTUB: "Ltub", DGUB: "dgub"}
    return [names[version] for (c, version) in _TYPES if c == coin]


def encode_address(coin: str, kind: str, key_hash: bytes) -> str:
    """A mainnet address of `coin` for a public key hash."""
    if coin == "BCH":
        return cashaddr_encode("bitcoincash", 0, key_hash)
    params = {"BTC": BITCOIN, "LTC": LITECOIN, "DOGE": DOGECOIN}[coin]["mainnet"]
    if kind == "p2wpkh":
        assert params.hrp is not None
        return encode_segwit(params.hrp, 0, key_hash)
    return b58check_encode(bytes([params.p2pkh]) + key_hash)
