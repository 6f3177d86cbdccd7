"""Replies to our own outbound mail, as mail clients write them in 34 languages (our own corpus).

For each language: what the customer typed, the client's attribution line (Gmail's format in
that language), Outlook's header labels (From / Sent / To / Subject), the "Original Message"
separator and the mobile signature. `build(language, shape, ...)` assembles a whole reply in one
of the shapes real clients send (Gmail, Outlook and Apple HTML with their text alternatives,
Outlook plain text, a mobile reply, a bottom-posted reply). Used by tests/test_email_reply_split.py
(a test per language) and bench/reply_corpus.py (the "own" corpus).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

SUPPORT = "support@helpdesk.example.com"
NAME = "Example Support"
SENT = ("Hello Jane,\n\nYour parcel 4521 left our warehouse this morning and should reach you by Thursday. "
        "The tracking link is in your account under Orders.\n\nBest regards,\nExample Support")
ADDR = f"{NAME} <{SUPPORT}>"


@dataclass(frozen=True)
class Language:
    typed: str
    attribution: str  # {who} is the sender ("Example Support <support@...>")
    outlook: tuple[str, str, str, str]  # From, Sent, To, Subject labels
    original: str
    mobile: str


LANGUAGES: dict[str, Language] = {
    "en": Language("Thanks, the parcel arrived today.\n\nJane", "On Sat, Jul 25, 2026 at 9:02 AM {who} wrote:",
                   ("From", "Sent", "To", "Subject"), "-----Original Message-----", "Sent from my iPhone"),
    "de": Language("Danke, das Paket ist heute angekommen.\n\nJane", "Am Sa., 25. Juli 2026 um 09:02 Uhr schrieb {who}:",
                   ("Von", "Gesendet", "An", "Betreff"), "-----Ursprüngliche Nachricht-----",
                   "Von meinem iPhone gesendet"),
    "fr": Language("Merci, le colis est arrivé aujourd'hui.\n\nJane", "Le sam. 25 juil. 2026 à 09:02, {who} a écrit :",
                   ("De", "Envoyé", "À", "Objet"), "-----Message d'origine-----", "Envoyé de mon iPhone"),
    "es": Language("Gracias, el paquete llegó hoy.\n\nJane", "El sáb, 25 jul 2026 a las 9:02, {who} escribió:",
                   ("De", "Enviado el", "Para", "Asunto"), "-----Mensaje original-----", "Enviado desde mi iPhone"),
    "it": Language("Grazie, il pacco è arrivato oggi.\n\nJane",
                   "Il giorno sab 25 lug 2026 alle ore 09:02 {who} ha scritto:",
                   ("Da", "Inviato", "A", "Oggetto"), "-----Messaggio originale-----", "Inviato da iPhone"),
    "nl": Language("Bedankt, het pakket is vandaag aangekomen.\n\nJane", "Op za 25 jul 2026 om 09:02 schreef {who}:",
                   ("Van", "Verzonden", "Aan", "Onderwerp"), "-----Oorspronkelijk bericht-----",
                   "Verzonden vanaf mijn iPhone"),
    "pt": Language("Obrigada, a encomenda chegou hoje.\n\nJane",
                   "Em sáb., 25 de jul. de 2026 às 09:02, {who} escreveu:",
                   ("De", "Enviado", "Para", "Assunto"), "-----Mensagem original-----", "Enviado do meu iPhone"),
    "pl": Language("Dziękuję, paczka dotarła dzisiaj.\n\nJane", "sob., 25 lip 2026 o 09:02 {who} napisał(a):",
                   ("Od", "Wysłano", "Do", "Temat"), "-----Wiadomość oryginalna-----", "Wysłane z iPhone'a"),
    "ru": Language("Спасибо, посылка пришла сегодня.\n\nJane", "сб, 25 июл. 2026 г. в 09:02, {who}:",
                   ("От", "Отправлено", "Кому", "Тема"), "-----Исходное сообщение-----", "Отправлено с iPhone"),
    "uk": Language("Дякую, посилка прийшла сьогодні.\n\nJane", "сб, 25 лип. 2026 р. о 09:02 {who} пише:",
                   ("Від", "Надіслано", "Кому", "Тема"), "-----Вихідне повідомлення-----", "Надіслано з iPhone"),
    "sv": Language("Tack, paketet kom fram i dag.\n\nJane", "Den lör 25 juli 2026 kl 09:02 skrev {who}:",
                   ("Från", "Skickat", "Till", "Ämne"), "-----Ursprungligt meddelande-----",
                   "Skickat från min iPhone"),
    "da": Language("Tak, pakken kom i dag.\n\nJane", "Den lør. 25. jul. 2026 kl. 09.02 skrev {who}:",
                   ("Fra", "Sendt", "Til", "Emne"), "-----Oprindelig meddelelse-----", "Sendt fra min iPhone"),
    "no": Language("Takk, pakken kom i dag.\n\nJane", "lør. 25. jul. 2026 kl. 09:02 skrev {who}:",
                   ("Fra", "Sendt", "Til", "Emne"), "-----Opprinnelig melding-----", "Sendt fra min iPhone"),
    "fi": Language("Kiitos, paketti saapui tänään.\n\nJane", "la 25. heinäk. 2026 klo 9.02 {who} kirjoitti:",
                   ("Lähettäjä", "Lähetetty", "Vastaanottaja", "Aihe"), "-----Alkuperäinen viesti-----",
                   "Lähetetty iPhonesta"),
    "cs": Language("Děkuji, balík dnes dorazil.\n\nJane", "so 25. 7. 2026 v 9:02 odesílatel {who} napsal:",
                   ("Od", "Odesláno", "Komu", "Předmět"), "-----Původní zpráva-----", "Odesláno z iPhonu"),
    "sk": Language("Ďakujem, balík dnes dorazil.\n\nJane", "so 25. 7. 2026 o 9:02 {who} napísal(a):",
                   ("Od", "Odoslané", "Komu", "Predmet"), "-----Pôvodná správa-----", "Odoslané z iPhonu"),
    "hu": Language("Köszönöm, a csomag ma megérkezett.\n\nJane",
                   "{who} ezt írta (időpont: 2026. júl. 25., Szo, 9:02):",
                   ("Feladó", "Elküldve", "Címzett", "Tárgy"), "-----Eredeti üzenet-----", "iPhone-ról küldve"),
    "ro": Language("Mulțumesc, coletul a sosit azi.\n\nJane", "sâm., 25 iul. 2026, 09:02 {who} a scris:",
                   ("De la", "Trimis", "Către", "Subiect"), "-----Mesaj original-----", "Trimis de pe iPhone"),
    "tr": Language("Teşekkürler, paket bugün geldi.\n\nJane",
                   "{who}, 25 Tem 2026 Cmt, 09:02 tarihinde şunu yazdı:",
                   ("Kimden", "Gönderildi", "Kime", "Konu"), "-----Özgün İleti-----", "iPhone'umdan gönderildi"),
    "el": Language("Ευχαριστώ, το δέμα έφτασε σήμερα.\n\nJane",
                   "Στις Σάβ 25 Ιουλ 2026 στις 9:02 π.μ., ο/η {who} έγραψε:",
                   ("Από", "Στάλθηκε", "Προς", "Θέμα"), "-----Αρχικό μήνυμα-----", "Στάλθηκε από το iPhone μου"),
    "bg": Language("Благодаря, пратката пристигна днес.\n\nJane", "сб, 25.07.2026 г. в 9:02 ч. {who} написа:",
                   ("От", "Изпратено", "До", "Относно"), "-----Оригинално съобщение-----",
                   "Изпратено от моя iPhone"),
    "hr": Language("Hvala, paket je stigao danas.\n\nJane", "sub, 25. srp 2026. u 09:02 {who} napisao je:",
                   ("Šalje", "Poslano", "Prima", "Predmet"), "-----Izvorna poruka-----", "Poslano s mog iPhonea"),
    "sl": Language("Hvala, paket je prispel danes.\n\nJane", "sob., 25. jul. 2026 ob 09:02 je {who} napisal(a):",
                   ("Od", "Poslano", "Za", "Zadeva"), "-----Izvirno sporočilo-----", "Poslano iz mojega iPhona"),
    "lt": Language("Ačiū, siuntinys atkeliavo šiandien.\n\nJane", "2026-07-25, št 09:02 {who} rašė:",
                   ("Nuo", "Išsiųsta", "Kam", "Tema"), "-----Originali žinutė-----", "Išsiųsta iš mano iPhone"),
    "lv": Language("Paldies, sūtījums šodien pienāca.\n\nJane",
                   "sestd., 2026. g. 25. jūl., plkst. 09:02 — lietotājs {who} rakstīja:",
                   ("No", "Nosūtīts", "Kam", "Tēma"), "-----Sākotnējā ziņa-----", "Nosūtīts no mana iPhone"),
    "et": Language("Aitäh, pakk jõudis täna kohale.\n\nJane", "L, 25. juuli 2026 kell 09:02 {who} kirjutas:",
                   ("Saatja", "Saadetud", "Adressaat", "Teema"), "-----Algne sõnum-----", "Saadetud minu iPhone'ist"),
    "ca": Language("Gràcies, el paquet ha arribat avui.\n\nJane",
                   "El dt., 25 de jul. 2026 a les 9:02, {who} va escriure:",
                   ("De", "Enviat el", "Per a", "Assumpte"), "-----Missatge original-----", "Enviat des del meu iPhone"),
    "id": Language("Terima kasih, paketnya sudah sampai hari ini.\n\nJane",
                   "Pada tanggal Sab, 25 Jul 2026 pukul 09.02 {who} menulis:",
                   ("Dari", "Dikirim", "Kepada", "Perihal"), "-----Pesan Asli-----", "Dikirim dari iPhone saya"),
    "vi": Language("Cảm ơn, bưu kiện đã đến hôm nay.\n\nJane",
                   "Vào Th 7, 25 thg 7, 2026 vào lúc 09:02 {who} đã viết:",
                   ("Từ", "Đã gửi", "Đến", "Chủ đề"), "-----Thư gốc-----", "Được gửi từ iPhone của tôi"),
    "ja": Language("ありがとうございます。荷物は今日届きました。\n\nJane", "2026年7月25日(土) 9:02 {who}:",
                   ("差出人", "送信日時", "宛先", "件名"), "-----元のメッセージ-----", "iPhoneから送信"),
    "zh": Language("谢谢，包裹今天到了。\n\nJane", "{who} 于2026年7月25日周六 09:02写道：",
                   ("发件人", "发送时间", "收件人", "主题"), "-----原始邮件-----", "发自我的iPhone"),
    "ko": Language("감사합니다. 소포가 오늘 도착했습니다.\n\nJane", "2026년 7월 25일 (토) 오전 9:02, {who}님이 작성:",
                   ("보낸 사람", "보낸 날짜", "받는 사람", "제목"), "-----원본 메시지-----", "iPhone에서 보냄"),
    "he": Language("תודה, החבילה הגיעה היום.\n\nJane", "בתאריך שבת, 25 ביולי 2026 ב-9:02 מאת {who}:",
                   ("מאת", "נשלח", "אל", "נושא"), "-----הודעה מקורית-----", "נשלח מה-iPhone שלי"),
    "ar": Language("شكرا، وصل الطرد اليوم.\n\nJane", "في السبت، 25 يوليو 2026 في 9:02 ص، كتب {who}:",
                   ("من", "تم الإرسال", "إلى", "الموضوع"), "-----الرسالة الأصلية-----", "أرسلت من الـ iPhone"),
}

SHAPES = ("gmail_html", "outlook_html", "apple_html", "outlook_text", "mobile_text", "bottom_text", "unknown_header_text")
# A header no pattern knows (Icelandic, without date or address), above our text flattened and
# re-wrapped: only the "our own sent text" layer can find this quote.
UNKNOWN_HEADER = "Example Support skrifaði:"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


def _html(text: str) -> str:
    return "".join(f"<div>{escape(line) or '<br>'}</div>" for line in text.split("\n"))


def bodies(code: str, shape: str, sent: str = SENT) -> tuple[str, str]:
    """(text/plain, text/html) of a reply in `code` shaped like `shape`; html may be empty."""
    lang = LANGUAGES[code]
    attribution = lang.attribution.format(who=ADDR)
    f, s, t, subj = lang.outlook
    header = (f"{f}: {ADDR}\n{s}: 25.07.2026 09:02\n{t}: Jane <jane@example.org>\n"
              f"{subj}: [#1] Where is my parcel?")
    if shape == "gmail_html":
        text = f"{lang.typed}\n\n{attribution}\n\n{_quoted(sent)}\n"
        html = (f'<div dir="ltr">{_html(lang.typed)}</div><br><div class="gmail_quote">'
                f'<div dir="ltr" class="gmail_attr">{escape(attribution)}<br></div>'
                f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                f'rgb(204,204,204);padding-left:1ex">{_html(sent)}</blockquote></div>')
        return text, html
    if shape == "outlook_html":
        text = f"{lang.typed}\n\n________________________________\n{header}\n\n{sent}\n"
        header_html = "<br>".join(f"<b>{escape(k)}:</b>{escape(v)}" for k, v in
                                  (line.split(":", 1) for line in header.split("\n")))
        html = (f'<html><body><div dir="ltr">{_html(lang.typed)}</div>'
                f'<hr style="display:inline-block;width:98%" tabindex="-1">'
                f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif">{header_html}</font>'
                f'<div>&nbsp;</div></div><div>{_html(sent)}</div></body></html>')
        return text, html
    if shape == "apple_html":
        text = f"{lang.typed}\n\n> {attribution}\n>\n{_quoted(sent)}\n"
        html = (f'<html><body dir="auto">{_html(lang.typed)}<div dir="ltr"><br><blockquote type="cite">'
                f'<div dir="ltr">{escape(attribution)}</div><br>{_html(sent)}</blockquote></div></body></html>')
        return text, html
    if shape == "outlook_text":
        return f"{lang.typed}\n\n{lang.original}\n{header}\n\n{sent}\n", ""
    if shape == "mobile_text":
        return f"{lang.typed}\n\n{lang.mobile}\n\n{attribution}\n\n{_quoted(sent)}\n", ""
    if shape == "unknown_header_text":
        import textwrap

        flat = "\n".join(textwrap.fill(p, 50) for p in sent.split("\n\n"))
        return f"{lang.typed}\n\n{UNKNOWN_HEADER}\n{flat}\n", ""
    if shape == "bottom_text":
        return f"{attribution}\n{_quoted(sent)}\n\n{lang.typed}\n", ""
    raise ValueError(f"unknown shape {shape!r}")


def mime(code: str, shape: str, *, sender: str, message_id: str, in_reply_to: str = "", sent: str = SENT,
         subject: str = "Re: [#1] Where is my parcel?") -> bytes:
    """The whole reply as the MTA would pipe it."""
    import email.message
    import email.policy

    text, html = bodies(code, shape, sent)
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = "Sat, 25 Jul 2026 10:19:58 -0700"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()
