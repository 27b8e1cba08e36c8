"""Text normalisation applied before vectorising: the message without quoted replies, signatures and pasted
logs, foreign support words in English, and ids, codes and amounts as tokens."""

import re

_ERROR_CODE = re.compile(
    r"\b0x[0-9a-f]{4,8}\b|\baadsts\d{4,}\b|\b[a-z]{2,10}-\d{2,6}\b|\b\d{1,2}-\d{3,4}\b", re.IGNORECASE
)
# Order matters: the more specific shapes are replaced before the generic digit runs.
_REPLACEMENTS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), " emailaddr "),
    (_ERROR_CODE, " errorcode "),
    (re.compile(r"#?\bw\d{7}\b"), " idnum "),
    (
        re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?|euros?)\b"),
        " amount ",
    ),
    (re.compile(r"#?\b\d{6,}\b"), " idnum "),
)
_SPACES = re.compile(r"\s+")

# Support words (and the few function words that carry a request: my, how, where, I would like) of Spanish,
# German, French, Italian and Portuguese tickets mapped to the English words the model was trained on. The
# training data is English; this lets a foreign ticket ("quiero cancelar mi pedido") reach the right intent
# instead of out_of_scope. Words that are also common English words are left out (no "come", "die", "comment").
# Multi-word entries come first so they win over their parts.
_GLOSSARY = {
    # Spanish
    "atención al cliente": "customer service",
    "servicio al cliente": "customer service",
    "contraseña": "password",
    "pedido": "order",
    "pedidos": "orders",
    "compra": "purchase",
    "cancelar": "cancel",
    "anular": "cancel",
    "reembolso": "refund",
    "devolución": "refund",
    "devuelvan el dinero": "refund",
    "devolver": "return",
    "dinero": "money",
    "envío": "shipping",
    "enviado": "shipped",
    "entrega": "delivery",
    "llegó": "arrived",
    "dirección": "address",
    "factura": "invoice",
    "pago": "payment",
    "pagos": "payments",
    "pagar": "pay",
    "tarjeta de crédito": "credit card",
    "tarjeta de débito": "debit card",
    "tarjeta": "card",
    "cuenta": "account",
    "crear": "create",
    "eliminar": "delete",
    "borrar": "delete",
    "cambiar": "change",
    "actualizar": "update",
    "datos": "details",
    "dañado": "damaged",
    "roto": "broken",
    "queja": "complaint",
    "reclamación": "complaint",
    "cargo": "fee",
    "horario": "hours",
    "teléfono": "phone",
    "opciones de envío": "shipping options",
    "envío urgente": "express shipping",
    "dónde": "where",
    "cuándo": "when",
    "cuánto": "how much",
    "quiero": "i want",
    "ayuda": "help",
    "boletín": "newsletter",
    "me gustaría": "i would like",
    "quisiera": "i would like",
    "hacer un pedido": "place an order",
    "comprar": "buy",
    "estado": "status",
    "seguimiento": "tracking",
    "paquete": "package",
    "producto": "product",
    "artículo": "item",
    "recibido": "received",
    "recibí": "received",
    "todavía no": "not yet",
    "no ha llegado": "has not arrived",
    "por error": "by mistake",
    "cambio": "exchange",
    "talla": "size",
    "aceptan": "do you accept",
    "métodos de pago": "payment methods",
    "formas de pago": "payment methods",
    "débito": "debit",
    "crédito": "credit",
    "cancelación": "cancellation",
    "tiempo de entrega": "delivery time",
    "días": "days",
    "iniciar sesión": "log in",
    "registrarme": "sign up",
    "registrarse": "sign up",
    "registro": "registration",
    "suscribirme": "subscribe",
    "suscribirse": "subscribe",
    "darme de baja": "unsubscribe",
    "hablar": "speak",
    "persona": "person",
    "agente": "agent",
    "llamar": "call",
    "contactar": "contact",
    "correo electrónico": "email",
    "correo": "email",
    "enviar": "send",
    "envíen": "send",
    "opinión": "review",
    "reseña": "review",
    "problema": "problem",
    "no funciona": "does not work",
    "cómo": "how",
    "qué": "what",
    "puedo": "can i",
    "pueden": "can you",
    "mi": "my",
    "mis": "my",
    "número": "number",
    # German
    "bestellung": "order",
    "bestellungen": "orders",
    "bestellen": "order",
    "stornieren": "cancel",
    "ändern": "change",
    "rückerstattung": "refund",
    "erstattung": "refund",
    "rücksendung": "return",
    "zurückschicken": "return",
    "geld zurück": "refund",
    "lieferung": "delivery",
    "versand": "shipping",
    "versendet": "shipped",
    "sendungsverfolgung": "tracking",
    "lieferadresse": "shipping address",
    "adresse": "address",
    "rechnung": "invoice",
    "zahlung": "payment",
    "bezahlen": "pay",
    "kreditkarte": "credit card",
    "abgelehnt": "declined",
    "kundenkonto": "account",
    "konto": "account",
    "passwort": "password",
    "kennwort": "password",
    "vergessen": "forgot",
    "zurücksetzen": "reset",
    "löschen": "delete",
    "erstellen": "create",
    "abonnieren": "subscribe",
    "abmelden": "unsubscribe",
    "beschweren": "complain",
    "beschwerde": "complaint",
    "beschädigt": "damaged",
    "kaputt": "broken",
    "mitarbeiter": "agent",
    "kundenservice": "customer service",
    "sprechen": "speak",
    "wie lange dauert": "how long does it take",
    "wo ist": "where is",
    "fehler": "error",
    "meldung": "message",
    "ich möchte": "i would like",
    "ich will": "i want",
    "kaufen": "buy",
    "gekauft": "bought",
    "mein": "my",
    "meine": "my",
    "meinen": "my",
    "meiner": "my",
    "wie": "how",
    "wann": "when",
    "wo": "where",
    "können sie": "can you",
    "kann ich": "can i",
    "prüfen": "check",
    "noch nicht": "not yet",
    "angekommen": "arrived",
    "erhalten": "received",
    "bekommen": "received",
    "paket": "package",
    "sendung": "shipment",
    "ware": "item",
    "artikel": "item",
    "produkt": "product",
    "umtauschen": "exchange",
    "umtausch": "exchange",
    "größe": "size",
    "lieferzeit": "delivery time",
    "dauert": "takes",
    "tage": "days",
    "zahlungsmethoden": "payment methods",
    "zahlungsarten": "payment methods",
    "akzeptieren sie": "do you accept",
    "gebühr": "fee",
    "stornierung": "cancellation",
    "stornogebühr": "cancellation fee",
    "registrieren": "register",
    "registrierung": "registration",
    "einloggen": "log in",
    "anmeldung": "sign in",
    "bewertung": "review",
    "bewerten": "review",
    "mensch": "human",
    "menschen": "human",
    "anrufen": "call",
    "telefonnummer": "phone number",
    "e-mail-adresse": "email address",
    "daten": "details",
    "hilfe": "help",
    "helfen": "help",
    "funktioniert nicht": "does not work",
    # French
    "service client": "customer service",
    "mot de passe": "password",
    "commande": "order",
    "commander": "order",
    "annuler": "cancel",
    "modifier": "change",
    "remboursement": "refund",
    "rembourser": "refund",
    "retourner": "return",
    "livraison": "delivery",
    "expédition": "shipping",
    "adresse de livraison": "shipping address",
    "facture": "invoice",
    "paiement": "payment",
    "payer": "pay",
    "carte": "card",
    "compte": "account",
    "créer": "create",
    "supprimer": "delete",
    "inscrire": "sign up",
    "inscription": "registration",
    "avis": "review",
    "réclamation": "complaint",
    "plainte": "complaint",
    "politique de remboursement": "refund policy",
    "où est": "where is",
    "erreur": "error",
    "connecter": "sign in",
    "je voudrais": "i would like",
    "je souhaite": "i would like",
    "j'aimerais": "i would like",
    "passer la commande": "place the order",
    "passer une commande": "place an order",
    "acheter": "buy",
    "acheté": "bought",
    "statut": "status",
    "suivi": "tracking",
    "suivre": "track",
    "colis": "package",
    "produit": "product",
    "reçu": "received",
    "pas encore": "not yet",
    "arrivé": "arrived",
    "arrivée": "arrived",
    "envoyer": "send",
    "échanger": "exchange",
    "échange": "exchange",
    "taille": "size",
    "acceptez-vous": "do you accept",
    "moyens de paiement": "payment methods",
    "frais d'annulation": "cancellation fee",
    "frais": "fee",
    "annulation": "cancellation",
    "délai de livraison": "delivery time",
    "combien de temps": "how long",
    "jours": "days",
    "je n'arrive pas à": "i can't",
    "je ne peux pas": "i can't",
    "connexion": "login",
    "humain": "human",
    "conseiller": "agent",
    "parler": "speak",
    "téléphone": "phone",
    "joindre": "contact",
    "contacter": "contact",
    "laisser un avis": "leave a review",
    "problème": "problem",
    "ne fonctionne pas": "does not work",
    "remboursé": "refunded",
    "retour": "return",
    "endommagé": "damaged",
    "cassé": "broken",
    "adresse e-mail": "email address",
    "mettre à jour": "update",
    "abonner": "subscribe",
    "désabonner": "unsubscribe",
    "quel est": "what is",
    "quelle est": "what is",
    "pouvez-vous": "can you",
    "aider": "help",
    "où": "where",
    "quand": "when",
    "mon": "my",
    "mes": "my",
    # Italian
    "vorrei": "i would like",
    "voglio": "i want",
    "annullare": "cancel",
    "ordine": "order",
    "ordini": "orders",
    "ordinare": "order",
    "mio": "my",
    "mia": "my",
    "miei": "my",
    "rimborso": "refund",
    "restituire": "return",
    "reso": "return",
    "spedizione": "shipping",
    "spedito": "shipped",
    "consegna": "delivery",
    "indirizzo di spedizione": "shipping address",
    "indirizzo": "address",
    "fattura": "invoice",
    "carta di credito": "credit card",
    "dimenticato": "forgot",
    "cambiare": "change",
    "modificare": "change",
    "eliminare": "delete",
    "creare": "create",
    "registrarmi": "sign up",
    "registrazione": "registration",
    "iscrivermi": "sign up",
    "dov'è": "where is",
    "quanto tempo": "how long",
    "arrivato": "arrived",
    "arrivata": "arrived",
    "danneggiato": "damaged",
    "rotto": "broken",
    "lamentela": "complaint",
    "operatore": "agent",
    "parlare": "speak",
    "servizio clienti": "customer service",
    "assistenza clienti": "customer service",
    "recensione": "review",
    "metodi di pagamento": "payment methods",
    "commissione": "fee",
    "tracciamento": "tracking",
    "pacco": "package",
    "prodotto": "product",
    "aiuto": "help",
    # Portuguese (words it shares with Spanish or Italian are above)
    "quero": "i want",
    "gostaria": "i would like",
    "encomenda": "order",
    "meu": "my",
    "minha": "my",
    "onde está": "where is",
    "chegou": "arrived",
    "produto": "product",
    "danificado": "damaged",
    "fatura": "invoice",
    "pagamento": "payment",
    "cartão de crédito": "credit card",
    "cartão": "card",
    "endereço de entrega": "shipping address",
    "endereço": "address",
    "rastreamento": "tracking",
    "rastreio": "tracking",
    "trocar": "exchange",
    "excluir": "delete",
    "apagar": "delete",
    "criar": "create",
    "senha": "password",
    "esqueci": "forgot",
    "cadastro": "registration",
    "cadastrar": "sign up",
    "atendimento ao cliente": "customer service",
    "atendente": "agent",
    "falar": "speak",
    "prazo de entrega": "delivery time",
    "conta": "account",
}
_WORDS = re.compile(r"\w+")
# Entries that are not one \w+ word (several words, or joined by a hyphen or an apostrophe) need the regex.
_SINGLE = {k: v for k, v in _GLOSSARY.items() if _WORDS.fullmatch(k)}
_PHRASES = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(k) for k in sorted(_GLOSSARY.keys() - _SINGLE.keys(), key=len, reverse=True))
    + r")(?!\w)"
)


def _translate(text: str) -> str:
    # One alternation over every entry costs ~0.1 ms per ticket; phrases are few, words are a dict lookup.
    text = _PHRASES.sub(lambda m: _GLOSSARY[m.group(0)], text)
    return _WORDS.sub(lambda m: _SINGLE.get(m.group(0), m.group(0)), text)


# Where the customer's own words end: an earlier message quoted below the reply, or a signature block.
_QUOTE_START = re.compile(
    r"^(?:on .{4,120} wrote:|-{2,} ?original message ?-{2,}|-{2,} ?forwarded message ?-{2,}|_{5,}|"
    r"(?:from|von|de): .+\n(?:(?:sent|date|gesendet|envoyé|to|an|à|subject|betreff|objet):.*\n?){1,4})",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_DELIMITER = re.compile(r"^-- ?$", re.MULTILINE)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
_SENT_FROM = re.compile(r"^sent from my [\w ]+$", re.IGNORECASE | re.MULTILINE)
# A sign-off alone on its line; the few short lines after it are the sender's name, title and numbers.
_CLOSING_LINE = re.compile(
    r"^(?:thanks?(?: you)?(?: (?:so|very) much)?(?: in advance)?|many thanks|thx|cheers|best|all the best|"
    r"(?:kind|best|warm|many)? ?regards|sincerely|yours(?: truly| sincerely)?|br|"
    r"mit freundlichen grüßen|viele grüße|liebe grüße|danke|gracias|saludos|un saludo|cordialement|merci)"
    r"[ \t]*[,.!]*[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_MAX_SIGNATURE_LINES = 8
_MAX_SIGNATURE_WORDS = 10
# Lines a program wrote (log records, stack frames, exception headers): only their error codes are kept.
_LOG_LINE = re.compile(
    r"^\s*(?:\[?\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}|\[?\d{1,2}:\d{2}:\d{2}\b|"
    r"\[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b[\]:]?\s|at [\w$.<>]+\(|"
    r"Traceback \(most recent call last\)|File \".*\", line \d+|(?:[a-z_]\w*\.)+[A-Z]\w*(?:Exception|Error)\b|"
    r"[A-Z][a-z]+(?:[A-Z]\w*)?(?:Exception|Error):)"
)


def _signature(lines: str) -> bool:
    """Whether the lines after a sign-off read like a name, a title and numbers rather than more request."""
    rows = [row.strip() for row in lines.strip().split("\n") if row.strip()]
    return len(rows) <= _MAX_SIGNATURE_LINES and not any(
        "?" in row or len(row.split()) > _MAX_SIGNATURE_WORDS or (row[-1] in ".!" and len(row.split()) > 3)
        for row in rows
    )


def strip_packaging(text: str) -> str:
    """The customer's message without quoted earlier messages, the signature block (name, title, phone
    numbers after a sign-off line or after `--`) and pasted log lines (a log line is replaced by the error
    codes in it). Text that would be left empty is returned unchanged."""
    original = text
    if quote := _QUOTE_START.search(text):
        text = text[: quote.start()]
    if delimiter := _SIGNATURE_DELIMITER.search(text):
        text = text[: delimiter.start()]
    text = _QUOTED_LINE.sub("", _SENT_FROM.sub("", text))
    # Greetings and sign-off lines stay: every class saw them in training (domain/augment.py), and dropping
    # them as well made no measurable difference on the development tickets.
    closings = list(_CLOSING_LINE.finditer(text))
    if closings and closings[-1].start() > 0 and _signature(text[closings[-1].end() :]):
        text = text[: closings[-1].end()]
    if "\n" in text:
        text = "\n".join(
            " ".join(_ERROR_CODE.findall(line)) if _LOG_LINE.match(line) else line for line in text.split("\n")
        )
    return text if _WORDS.search(text) else original


def normalize(text: str) -> str:
    """The request (strip_packaging) in lower case, with foreign support words translated and e-mails, error
    codes, ids and amounts replaced by placeholder words."""
    text = _translate(strip_packaging(text).lower().replace("\u2019", "'"))  # typographic apostrophes as typed ones
    for pattern, placeholder in _REPLACEMENTS:
        text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip()
