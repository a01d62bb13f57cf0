"""Random text from outside: what a provider or a sink may answer with.

Every generator takes a random.Random so a run is reproducible from its seed. Texts are
bytes, because the point is that they need not be UTF-8: valid text in many scripts,
multi-byte characters placed at every cut point near 200 bytes (the provider message cut),
invalid sequences, NULs and control characters, format-string bait, markup, 1 MiB, nothing.
"""

import json

# Real-looking messages in many scripts. The first is the case: a Chinese gateway's
# 402 answer, four sentences and well over 200 bytes of UTF-8.
SENTENCES = [
    "您的账户余额不足，无法继续调用接口。请前往控制台充值后再试。如有疑问，请联系客服并提供请求编号。"
    "本次请求未产生任何费用，感谢您的理解与支持。",
    "認証に失敗しました。APIキーが無効か、有効期限が切れています。管理画面で新しいキーを発行してください。",
    "잔액이 부족합니다. 충전 후 다시 시도해 주세요. 문의 사항은 고객 센터로 연락 주십시오.",
    "رصيد حسابك غير كافٍ. يرجى إعادة الشحن ثم المحاولة مرة أخرى.",
    "היתרה בחשבונך אינה מספיקה. נא לטעון את החשבון ולנסות שוב.",
    "Недостаточно средств на балансе. Пополните счёт и повторите запрос.",
    "Το υπόλοιπο του λογαριασμού δεν επαρκεί. Παρακαλώ ανανεώστε το.",
    "आपके खाते में पर्याप्त शेष राशि नहीं है। कृपया रिचार्ज करें।",
    "ยอดเงินในบัญชีของคุณไม่เพียงพอ กรุณาเติมเงินแล้วลองอีกครั้ง",
    "Số dư tài khoản không đủ. Vui lòng nạp thêm tiền và thử lại.",
    "Insufficient Balance",
    "Authentication Fails, Your api key: ****abcd is invalid",
    "💸🔥 out of credits 🚨👩‍💻🏳️‍🌈🇨🇳 ",
    "Ｚａｌｇｏ: ẕ̸̢̛̹̮̤̗a̵̧̛̙̹l̷̡̛̰g̵̨̛̖o̷̢̟",
    "RTL \u202eesrever\u202c and zero\u200bwidth\ufeff and \ufffd replacement",
    "format bait {} {0} {:>999999999} %s%s%n%x %(x)s ${HOME} $(id) `id`",
    "markup <script>alert(1)</script> <!channel> @here *bold* _it_ ~x~ ```code``` [a](b) &amp; &#0;",
    "quotes \" ' \\ \\\" \\u0000 and a / slash",
    "line\nbreaks\r\nand\ttabs\x0bvt\x0cff\x85nel\u2028ls\u2029ps",
    "ANSI \x1b[31mred\x1b[0m bell\x07 backspace\x08 del\x7f",
]

# Byte sequences that are not UTF-8: a lone continuation, an overlong '/', a UTF-16
# surrogate, a sequence cut short, bytes that never occur, a code point above U+10FFFF.
INVALID = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe4\xb8", b"\xff\xfe", b"\xf8\x88\x80\x80\x80",
           b"\xf4\x90\x80\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x92"]

MULTIBYTE = ["é", "中", "€", "😀", "👩‍💻", "ก", "ह्", "\u0301"]


def _utf8(text):
    return text.encode("utf-8")


def sentence(rng):
    return _utf8(rng.choice(SENTENCES))


def long_cjk(rng):
    """The issue's shape: several CJK sentences, over 200 bytes."""
    return _utf8("".join(rng.choice(SENTENCES[:3]) for _ in range(rng.randint(1, 4))))


def cut_point(rng):
    """ASCII then multi-byte characters so that byte 150..260 (every limit we know of:
    200 for provider messages, 147/150 for Slack's header, 255 for PagerDuty's dedup_key)
    falls inside a character for some of them."""
    prefix = "x" * rng.randint(120, 260)
    return _utf8(prefix + "".join(rng.choice(MULTIBYTE) for _ in range(rng.randint(1, 40))))


def invalid(rng):
    parts = []
    for _ in range(rng.randint(1, 12)):
        parts.append(rng.choice([sentence(rng), rng.choice(INVALID), b"ok ", b"\x00", b"%s{}"]))
    return b"".join(parts)


def control(rng):
    return bytes(rng.choice([0, 1, 7, 8, 9, 10, 13, 27, 127]) for _ in range(rng.randint(1, 64)))


def huge(rng, size=None):
    """Up to a little over 1 MiB: around every size cap the daemon has."""
    size = size or rng.choice([64 * 1024, 900 * 1024, (1 << 20) + 17, 2 << 20])
    unit = sentence(rng) + rng.choice([b"", rng.choice(INVALID)])
    return (unit * (size // len(unit) + 1))[:size]


def empty(rng):
    return b""


GENERATORS = [sentence, long_cjk, cut_point, invalid, control, huge, empty]
# Huge texts cost time to send and parse: one pick in twenty.
WEIGHTS = [6, 5, 4, 4, 1, 1, 1]


def any_text(rng):
    return rng.choices(GENERATORS, WEIGHTS)[0](rng)


def json_string(raw):
    """`raw` inside a JSON string literal. Invalid bytes are kept as they are (so the body is
    not valid UTF-8 JSON, as a broken gateway would send); valid text is escaped by json."""
    try:
        return json.dumps(raw.decode("utf-8"), ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError:
        escaped = raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        escaped = bytes(b if b >= 0x20 else 0x20 for b in escaped)
        return b'"' + escaped + b'"'


def error_envelope(rng, message, kind="invalid_request_error"):
    """DeepSeek's (OpenAI-style) error body around `message`, or some other shape a gateway
    in front of it may use, or not JSON at all."""
    shape = rng.randint(0, 5)
    if shape <= 2:
        return (b'{"error":{"message":' + json_string(message) + b',"type":"' + kind.encode() +
                b'","param":null,"code":"invalid_request_error"}}')
    if shape == 3:
        return b'{"code":40100,"msg":' + json_string(message) + b',"data":null}'
    if shape == 4:
        return b'{"error":' + json_string(message) + b'}'
    return message
