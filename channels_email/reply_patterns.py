"""What mail clients write above a quote and below a reply, in many languages.

Three kinds of lines end what the customer typed:
* an attribution ("On <date>, <name> wrote:"), which clients wrap over two or three lines;
* an Outlook header block ("From: / Sent: / To: / Subject:", without ">" quoting);
* a separator ("-----Original Message-----" and its translations, Outlook's underscore rule).
And one kind of line starts the mobile signature ("Sent from my iPhone").

Every language is always on: a Dutch customer writes to an English helpdesk, and whether a line
is a Dutch reply header does not depend on what the helpdesk speaks. The words come from the
clients' own localisations (Gmail, Outlook, Apple Mail, Thunderbird, Android/iOS mail apps) as
gathered by talon, mail-parser-reply, email_reply_parser, Zammad and our own captures.
"""

from __future__ import annotations

import re

# "wrote" as clients print it at the end of an attribution line, per language.
WROTE = {
    "en": ["wrote", "writes", "said"], "de": ["schrieb", "geschrieben"], "fr": ["a écrit", "écrit"],
    "es": ["escribió", "escribio"], "it": ["ha scritto", "scritto", "scrisse"], "nl": ["schreef", "geschreven"],
    "pt": ["escreveu"], "sv": ["skrev"], "da": ["skrev"], "no": ["skrev", "skreiv"], "fi": ["kirjoitti"],
    "pl": ["napisał", "napisała", "napisał\\(a\\)", "pisze"], "cs": ["napsal", "napsala", "napsal\\(a\\)"],
    "sk": ["napísal", "napísala", "napísal\\(a\\)"], "hu": ["írta", "ezt írta"], "ro": ["a scris"],
    "ru": ["написал", "написала", "написал\\(а\\)", "пишет"], "uk": ["написав", "написала", "пише"],
    "bg": ["написа"], "tr": ["yazdı", "şunu yazdı"], "el": ["έγραψε"], "hr": ["napisao", "napisala", "je napisao", "napisao je", "napisala je"],
    "sr": ["написао", "napisao", "je napisao"], "sl": ["napisal", "je napisal", "napisal\\(a\\)"], "lt": ["rašė", "parašė"],
    "lv": ["rakstīja"], "et": ["kirjutas"], "ca": ["va escriure", "ha escrit"], "eu": ["idatzi zuen"],
    "gl": ["escribiu"], "id": ["menulis"], "ms": ["menulis"], "vi": ["đã viết", "viết"], "he": ["כתב", "כתבה"],
    "ar": ["كتب"], "fa": ["نوشت"], "ja": ["書きました", "書き込みました", "のメッセージ"], "zh": ["写道", "寫道"],
    "ko": ["작성", "님이 작성"], "th": ["เขียน"], "hi": ["ने लिखा"],
}

# The first word of an Outlook / Gmail-forward header block ("From:"), per language.
FROM = {
    "en": ["From"], "de": ["Von"], "fr": ["De", "Expéditeur"], "es": ["De", "Remitente"], "it": ["Da", "Mittente"],
    "nl": ["Van", "Afzender"], "pt": ["De", "Remetente"], "sv": ["Från", "Avsändare"], "da": ["Fra", "Afsender"],
    "no": ["Fra", "Avsender"], "fi": ["Lähettäjä", "Keneltä"], "pl": ["Od", "Nadawca"], "cs": ["Od", "Odesílatel"],
    "sk": ["Od", "Odosielateľ"], "hu": ["Feladó", "Küldő"], "ro": ["De la", "Expeditor"], "ru": ["От", "От кого"],
    "uk": ["Від", "Від кого"], "bg": ["От", "Подател"], "tr": ["Kimden", "Gönderen"], "el": ["Από", "Αποστολέας"],
    "hr": ["Šalje", "Od"], "sr": ["Од", "Šalje"], "sl": ["Od", "Pošiljatelj"], "lt": ["Nuo", "Siuntėjas"],
    "lv": ["No", "Sūtītājs"], "et": ["Saatja", "Kellelt"], "ca": ["De"], "eu": ["Nork"], "gl": ["De"],
    "id": ["Dari"], "ms": ["Daripada"], "vi": ["Từ", "Người gửi"], "he": ["מאת"], "ar": ["من"], "fa": ["از"],
    "ja": ["差出人", "送信者", "From"], "zh": ["发件人", "寄件者", "發件人"], "ko": ["보낸 사람", "보낸사람"],
    "th": ["จาก"], "hi": ["प्रेषक"],
}

# The other fields of such a block (Sent/Date, To, Cc, Subject); any two confirm a From line.
FIELDS = [
    "Sent", "Date", "To", "Cc", "Subject", "Reply-To",  # en
    "Gesendet", "Datum", "An", "Betreff", "Kopie",  # de
    "Envoyé", "Date", "À", "A", "Objet", "Cc",  # fr
    "Enviado", "Enviado el", "Fecha", "Para", "Asunto", "CC",  # es
    "Inviato", "Data", "A", "Oggetto", "Cc",  # it
    "Verzonden", "Datum", "Aan", "Onderwerp",  # nl
    "Enviada", "Enviado", "Enviada em", "Enviado em", "Data", "Para", "Assunto",  # pt
    "Skickat", "Datum", "Till", "Ämne", "Kopia",  # sv
    "Sendt", "Dato", "Til", "Emne",  # da, no
    "Lähetetty", "Päivämäärä", "Vastaanottaja", "Aihe", "Kopio",  # fi
    "Wysłano", "Data", "Do", "Temat", "DW",  # pl
    "Odesláno", "Datum", "Komu", "Předmět", "Kopie",  # cs
    "Odoslané", "Dátum", "Komu", "Predmet",  # sk
    "Elküldve", "Dátum", "Címzett", "Tárgy", "Másolatot kap",  # hu
    "Trimis", "Data", "Către", "Subiect",  # ro
    "Отправлено", "Дата", "Кому", "Тема", "Копия",  # ru
    "Надіслано", "Дата", "Кому", "Тема",  # uk
    "Изпратено", "Дата", "До", "Относно", "Тема",  # bg
    "Gönderildi", "Tarih", "Kime", "Konu", "Bilgi",  # tr
    "Στάλθηκε", "Ημερομηνία", "Προς", "Θέμα", "Κοιν",  # el
    "Poslano", "Datum", "Prima", "Predmet", "Za", "Zadeva", "Kopija",  # hr, sr, sl
    "Послато", "Датум", "Прима", "Предмет",  # sr (Cyrillic)
    "Išsiųsta", "Data", "Kam", "Tema",  # lt
    "Nosūtīts", "Datums", "Kam", "Tēma",  # lv
    "Saadetud", "Kuupäev", "Adressaat", "Kellele", "Teema",  # et
    "Enviat", "Enviat el", "Data", "Per a", "Assumpte",  # ca
    "Noiz", "Nori", "Gaia",  # eu
    "Dikirim", "Tanggal", "Kepada", "Perihal", "Subjek",  # id, ms
    "Đã gửi", "Ngày", "Đến", "Tới", "Chủ đề",  # vi
    "נשלח", "תאריך", "אל", "נושא",  # he
    "تم الإرسال", "التاريخ", "إلى", "الموضوع",  # ar
    "ارسال شده", "تاریخ", "به", "موضوع",  # fa
    "送信日時", "送信日", "日付", "宛先", "件名", "CC",  # ja
    "发送时间", "日期", "收件人", "主题", "抄送", "寄件日期", "收件者", "主旨", "發送時間", "收件人", "主題",  # zh
    "보낸 날짜", "날짜", "받는 사람", "제목", "참조",  # ko
    "ส่ง", "วันที่", "ถึง", "เรื่อง",  # th
    "भेजा गया", "प्रति", "विषय",  # hi
]

# "-----Original Message-----" and its translations (Outlook, Lotus, webmails).
ORIGINAL_MESSAGE = [
    "Original Message", "Original Mail", "Reply message", "Ursprüngliche Nachricht", "Originalnachricht",
    "Message d'origine", "Message original", "Mensaje original", "Messaggio originale", "Oorspronkelijk bericht",
    "Origineel bericht", "Mensagem original", "Ursprungligt meddelande", "Originalmeddelande",
    "Oprindelig meddelelse", "Original meddelelse", "Opprinnelig melding", "Originalmelding",
    "Alkuperäinen viesti", "Wiadomość oryginalna", "Oryginalna wiadomość", "Původní zpráva", "Pôvodná správa",
    "Eredeti üzenet", "Mesaj original", "Mesajul original", "Исходное сообщение", "Оригинальное сообщение",
    "Вихідне повідомлення", "Оригінальне повідомлення", "Оригинално съобщение", "Първоначално съобщение",
    "Orijinal mesaj", "Özgün ileti", "Αρχικό μήνυμα", "Izvorna poruka", "Originalna poruka", "Izvorno sporočilo", "Izvirno sporočilo",
    "Originali žinutė", "Pradinis laiškas", "Sākotnējā ziņa", "Oriģinālā ziņa", "Algne sõnum", "Algne kiri",
    "Missatge original", "Mensaxe orixinal", "Pesan Asli", "Mesej Asal", "Thư gốc", "Tin nhắn gốc",
    "הודעה מקורית", "الرسالة الأصلية", "پیام اصلی", "元のメッセージ", "原始邮件", "原始郵件", "原邮件",
    "원본 메시지", "ข้อความต้นฉบับ", "मूल संदेश",
]

# Words a mobile client's automatic signature uses ("Sent from my iPhone", "Von meinem iPhone
# gesendet", "iPhoneから送信", "Get Outlook for Android"): the verb or preposition in each
# language, and the device/app it names. A short line with both, at the end, is that signature.
SENT_FROM = [
    "sent from", "sent with", "sent via", "sent using", "get outlook", "download outlook",  # en
    "von meinem", "gesendet von", "gesendet mit",  # de
    "envoyé de", "envoyé depuis", "envoyé avec", "obtenir outlook",  # fr
    "enviado desde", "enviado de", "enviado do", "enviado con", "obtener outlook", "baixe o outlook",  # es, pt
    "inviato da", "inviato con", "scarica outlook",  # it
    "verzonden vanaf", "verzonden met", "verstuurd vanaf", "verstuurd met", "download outlook",  # nl
    "skickat från", "skickades från", "hämta outlook",  # sv
    "sendt fra", "sendt med", "hent outlook", "få outlook",  # da, no
    "lähetetty", "hanki outlook",  # fi
    "wysłane z", "wysłano z", "pobierz outlook",  # pl
    "odesláno z", "odoslané z", "stáhněte si outlook",  # cs, sk
    "küldve", "küldve:", "töltse le",  # hu
    "trimis de pe", "trimis din", "descărcați outlook",  # ro
    "отправлено с", "отправлено из", "скачайте outlook", "получить outlook",  # ru
    "надіслано з", "відправлено з",  # uk
    "изпратено от", "изпратено с",  # bg
    "gönderildi", "gönderilmiştir",  # tr
    "στάλθηκε από",  # el
    "poslano s", "poslano sa", "poslano iz", "poslato sa", "послато са",  # hr, sr, sl
    "išsiųsta iš", "nosūtīts no", "saadetud",  # lt, lv, et
    "enviat des de", "enviat amb",  # ca
    "dikirim dari", "dihantar dari",  # id, ms
    "được gửi từ", "gửi từ",  # vi
    "נשלח מ", "أرسلت من", "تم الإرسال من", "ارسال شده از",  # he, ar, fa
    "から送信", "发自我的", "发自", "從我的", "寄件自", "에서 보냄", "에서 보낸", "ส่งจาก", "से भेजा गया",  # ja, zh, ko, th, hi
]
DEVICES = ["iphon", "ipad", "ipod", "android", "galaxy", "samsung", "blackberry", "outlook", "huawei", "xiaomi",
           "pixel", "oneplus", "oppo", "motorola", "nokia", "sony", "lg ", "htc", "mobile", "smartphone", "handy",
           "móvil", "movil", "cellulare", "telefon", "téléphone", "mobil", "puhelin", "telefoon", "телефон",
           "смартфон", "yahoo", "gmail", "aol", "mail", "tablet", "tablette", "spark", "blue mail", "bluemail",
           "proton", "tutanota", "edison", "airmail", "superhuman", "thunderbird", "k-9", "fairemail", "zoho",
           "ios", "mac", "watch", "teléfono", "celular", "携帯", "手机", "手機", "휴대폰", "갤럭시"]

_SPACE = r"[ \t\u00a0]"


def _alternatives(words) -> str:
    return "|".join(sorted({w for w in words}, key=len, reverse=True))


def _escaped(words) -> list[str]:
    # The WROTE table holds a few ready-made regex escapes ("napisał\(a\)"); the rest are literal.
    return [w if "\\" in w else re.escape(w) for w in words]


_WROTE_RE = _alternatives(_escaped(w for words in WROTE.values() for w in words))
# An attribution: a line (or two or three joined) ending in "wrote:" in some language, or any
# line ending with ":" that carries both a date-ish number and an address (Gmail's Russian and
# Hungarian attributions have no verb at the end: "сб, 25 июл. 2026 г. в 09:02, Jane <j@x>:").
WROTE_LINE = re.compile(rf"(?:{_WROTE_RE})\s*(?:\([^()]*\)\s*)?[:：]?\s*$", re.I)
ADDRESS = re.compile(r"<[^<>\s]+@[^<>\s]+>|\[mailto:[^\]\s]+\]|[^\s<>()]+@[^\s<>()]+\.\w+")
# An attribution starts with a word a reply header starts with: "On", "Am", "Le", "El", "Il",
# "Op", "Em", "Den", "Dnia", "W dniu", "Dne", "В", "Στις", a date, a name... Rather than list
# openings, we accept any line not too long and check that the joined text has a digit (the date).
HAS_DIGIT = re.compile(r"\d")
# "---- Jane wrote ----", "------On 12/29/1987 17:32 PM, Julius Caesar wrote-----" (Android, Lotus).
SEPARATOR_WROTE = re.compile(rf"^[-_=*]{{2,}}.{{0,200}}(?:{_WROTE_RE}).{{0,20}}[-_=*]{{2,}}$", re.I)
# Old Gmail and some webmails: a date, a name and an address, no verb ("2011/4/7 Jane <j@x>").
DATE_ADDRESS_LINE = re.compile(r"^\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b.{0,120}(?:<[^<>\s]+@[^<>\s]+>|\S+@\S+\.\w+)"
                               r"\s*[:：]?$")
# A reply and an attribution sharing a line: "Thanks--- On Wed, Apr 4, 2012 at 3:59 PM, x wrote:".
SHARED_LINE = re.compile(r"^(?P<reply>.*?\S)\s*-{3,}\s*(?P<header>\S.*[:：])\s*$")
# ... or without the dashes, where the attribution opens with the word clients start it with.
SHARED_OPENING = re.compile(r"^(?P<reply>.*?\S)\s+(?P<header>(?:On|Am|Le|El|Il|Op|Em|Den|Dnia|W dniu|Dne|Dňa|В|Στις|"
                            r"Pada|Vào|Na|Il giorno)\s.*\d.*[:：])\s*$")
# An attribution's last line when the client wrapped everything before the verb away ("> wrote:").
WROTE_ALONE = re.compile(rf"^(?:{_WROTE_RE})\s*[:：]$", re.I)

_FROM_RE = _alternatives(re.escape(w) for words in FROM.values() for w in words)
_FIELDS_RE = _alternatives(re.escape(w) for w in FIELDS)
# "From: Jane <jane@x>" / "*From:* Jane" / "**Von:** Jane" / "De : Jane" (French spacing).
# (Quantifiers are bounded throughout: a hostile line of 100k spaces must not backtrack for minutes.)
FROM_LINE = re.compile(rf"^[*_]{{0,3}}(?:{_FROM_RE})[*_]{{0,3}}{_SPACE}{{0,3}}[:：][*_]{{0,3}}(?:\s|$)", re.I)
FIELD_LINE = re.compile(rf"^[*_]{{0,3}}(?:{_FIELDS_RE}|{_FROM_RE})[*_]{{0,3}}{_SPACE}{{0,3}}[:：][*_]{{0,3}}(?:\s|$)",
                        re.I)
# A whole header block flattened onto one line ("Date: ... From: ... To: ... Subject: ...").
INLINE_FIELD = re.compile(rf"(?:^|\s)[*_]{{0,3}}(?:{_FIELDS_RE}|{_FROM_RE})[*_]{{0,3}}{_SPACE}{{0,3}}[:：]", re.I)

_ORIGINAL_RE = _alternatives(re.escape(w) for w in ORIGINAL_MESSAGE)
ORIGINAL_LINE = re.compile(rf"^[-_=*~\s]{{0,40}}(?:{_ORIGINAL_RE})[-_=*~\s]{{0,40}}:?$", re.I)
# Outlook's rule above its header block: a line of underscores (or dashes) alone.
RULE_LINE = re.compile(r"^\s*(?:_{10,}|-{10,}|={10,}|—{5,})\s*$")
# The standard signature delimiter (RFC 3676 section 4.3), and the common "--" without a space.
SIGNATURE_DELIMITER = re.compile(r"^(?:-- ?|—)$")
# A forward is content the customer wants us to read: never cut as a quote.
FORWARDED = re.compile(r"^[-_=* \t]{0,40}(?:forwarded message|begin forwarded message|weitergeleitete nachricht|"
                       r"message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|"
                       r"mensagem encaminhada|vidarebefordrat meddelande|videresendt meddelelse|"
                       r"välitetty viesti|przekazana wiadomość|přeposlaná zpráva|továbbított üzenet|"
                       r"пересылаемое сообщение|переслане повідомлення|iletilen ileti|προωθημένο μήνυμα|"
                       r"転送されたメッセージ|转发的邮件|전달된 메시지)", re.I | re.M)

# A reply's subject prefix in the common clients' languages ("Re:", "AW:", "SV:", "Odp:", "回复:").
REPLY_SUBJECT = re.compile(r"^\s*(?:re|aw|sv|vs|antw|odp|ynt|yan|rif|res|ref|r|atb|vá|απ|отв|回复|答复|返信|회신)"
                           r"\s*(?:\[\d+\])?\s*[:：]", re.I)

_SENT_FROM_RE = _alternatives(re.escape(w) for w in SENT_FROM)
_DEVICES_RE = _alternatives(re.escape(w) for w in DEVICES)
SENT_FROM_LINE = re.compile(rf"(?:{_SENT_FROM_RE})", re.I)
DEVICE = re.compile(rf"(?:{_DEVICES_RE})", re.I)
