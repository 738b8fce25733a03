"""Countries and the top-level domains that point to them (pure data, no imports from the app).

Sources: ISO 3166-1 (officially assigned alpha-2 codes); the IANA root zone database for
country-code domains, including the internationalised (IDN) ones; and Google Search Central's list
of country-code domains it treats as generic, because sites anywhere use them.
"""

from __future__ import annotations

from collections.abc import Mapping

# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRIES = frozenset(
    (
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
        "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
        "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
        "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
        "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
        "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
        "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
        "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
        "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
        "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
        "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
        "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
        "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
        "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
        "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
        "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
        "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    )
)
# Country-code domains whose letters are not the ISO code of the country they belong to.
# Country-code domains whose letters are not the ISO code of the country they belong to.
CCTLD_EXCEPTIONS: Mapping[str, str] = {"uk": "GB", "ac": "SH"}

# Country-code domains sold to anyone and used by sites everywhere (.tv, .io, .me...): their
# letters say nothing about where a site is.
GENERIC_USE_CCTLDS = frozenset(
    {
        "ad", "as", "bz", "cc", "cd", "co", "dj", "fm", "io", "la", "me", "ms", "nu", "sc", "sr",
        "tk", "tv", "ws",
    }
)

# Internationalised country-code domains (as written; their ASCII form is computed below).
IDN_CCTLDS_WRITTEN: Mapping[str, str] = {
    "рф": "RU", "бел": "BY", "укр": "UA", "срб": "RS", "мкд": "MK", "қаз": "KZ", "мон": "MN",
    "бг": "BG", "ελ": "GR", "გე": "GE", "հայ": "AM", "ישראל": "IL",
    "中国": "CN", "中國": "CN", "香港": "HK", "澳門": "MO", "台湾": "TW", "台灣": "TW",
    "新加坡": "SG", "한국": "KR", "ไทย": "TH", "ລາວ": "LA",
    "امارات": "AE", "السعودية": "SA", "مصر": "EG", "عراق": "IQ", "ایران": "IR",
    "الاردن": "JO", "المغرب": "MA", "الجزائر": "DZ", "تونس": "TN", "فلسطين": "PS",
    "سودان": "SD", "سورية": "SY", "قطر": "QA", "عمان": "OM", "پاکستان": "PK",
    "مليسيا": "MY", "موريتانيا": "MR", "البحرين": "BH", "اليمن": "YE", "بھارت": "IN",
    "ලංකා": "LK", "இலங்கை": "LK", "சிங்கப்பூர்": "SG", "இந்தியா": "IN", "भारत": "IN",
    "বাংলা": "BD", "ভারত": "IN", "ભારત": "IN", "ਭਾਰਤ": "IN", "భారత్": "IN", "ഭാരതം": "IN",
    "ಭಾರತ": "IN", "ଭାରତ": "IN", "भारतम्": "IN", "भारोत": "IN",
    "بارت": "IN", "ڀارت": "IN",
}
# ASCII (punycode) form -> (country, the domain as written).
IDN_CCTLDS: Mapping[str, tuple[str, str]] = {
    written.encode("idna").decode("ascii"): (country, written)
    for written, country in IDN_CCTLDS_WRITTEN.items()
}
