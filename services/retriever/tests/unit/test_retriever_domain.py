"""Article preparation, query building and step parsing, on hand-made inputs."""

import pytest
from retriever.domain.articles import HELP_AREA, content_hash, help_docs, kb_doc, resolution_section
from retriever.domain.query import KB, NONE, STORE, build_query, query_codes, query_text, scope_for, ticket_query
from retriever.domain.results import articles_from_hits
from retriever.domain.steps import parse_steps, snippet
from retriever.domain.text import error_codes, strip_markdown
from supportmesh_core import resolution

pytestmark = pytest.mark.unit

ARTICLE = {
    "id": "Outlook/Client/x/prompts", "path": "Outlook/Client/x/prompts.md", "title": "Outlook prompts",
    "description": "Outlook keeps prompting.", "product_area": "Outlook/Client",
    "applies_to": ["Outlook 2016"],
    "body_markdown": (
        "# Outlook prompts\n\n## Symptoms\n\nYou get error 0x8004010F and AADSTS50076.\n\n"
        "> [!NOTE]\n> See [the docs](https://example.com/docs) for **more**.\n\n"
        "## Resolution\n\n1. Exit **Outlook**.\n   - a nested hint\n2. Open [Control Panel](/windows/cp).\n"
        "### Method 2\n\n- use `Set-Mailbox`\n\n## More information\n\nSMTP 5.7.1 rejects.\n"),
}


def test_markdown_is_stripped_of_links_markup_and_alerts_but_keeps_lists():
    text = strip_markdown(ARTICLE["body_markdown"])
    assert "https://example.com" not in text and "/windows/cp" not in text
    assert "[!NOTE]" not in text and "**" not in text and "`" not in text
    assert "See the docs for more." in text
    assert "1. Exit Outlook." in text


def test_resolution_section_runs_to_the_next_heading_of_its_level():
    section = resolution_section(ARTICLE["body_markdown"])
    assert section.startswith("1. Exit")
    assert "Method 2" in section and "Set-Mailbox" in section
    assert "SMTP 5.7.1" not in section


def test_kb_doc_derives_url_codes_and_resolution():
    doc = kb_doc(ARTICLE)
    assert doc.url == "https://learn.microsoft.com/en-us/troubleshoot/Outlook/Client/x/prompts"
    assert doc.error_codes == ["0x8004010f", "AADSTS50076", "5.7.1"]
    assert "Control Panel" in doc.resolution and "/windows/cp" not in doc.resolution


def test_kb_doc_rejects_a_record_without_body():
    with pytest.raises(ValueError, match="body_markdown"):
        kb_doc({"id": "x"})


def test_error_codes_are_normalized_and_deduplicated():
    assert error_codes("0X8004010F then 0x8004010f and aadsts50076 and 4.4.7") == \
        ["0x8004010f", "AADSTS50076", "4.4.7"]


def test_help_pages_become_store_documents_and_the_policy_is_not_indexed():
    pages = resolution.load().help
    docs = {d.id: d for d in help_docs(pages.values())}
    assert set(docs) == set(pages) and all(i.startswith("help:") for i in docs)
    assert all(d.product_area == HELP_AREA for d in docs.values())
    assert docs["help:refunds"].resolution == pages["help:refunds"].text
    assert not any("Domain basic" in d.body or "you should check its status" in d.body for d in docs.values())


def test_content_hash_changes_with_content_and_mapping():
    doc = kb_doc(ARTICLE)
    changed = kb_doc({**ARTICLE, "title": "Other"})
    assert content_hash([doc], {}) == content_hash([doc], {})
    assert content_hash([doc], {}) != content_hash([changed], {})
    assert content_hash([doc], {}) != content_hash([doc], {"a": 1})


def test_steps_are_the_outermost_numbered_items():
    text = "Intro\n1. Exit Outlook.\n   1. nested\n2. Open Mail.\n- not a step here"
    assert parse_steps(text) == ["Exit Outlook.", "Open Mail."]


def test_steps_fall_back_to_bullets_and_are_capped():
    text = "\n".join(f"- step {i}" for i in range(14))
    assert parse_steps(text) == [f"step {i}" for i in range(12)]
    assert parse_steps("") == []


def test_a_prose_resolution_gives_its_first_paragraphs_as_steps_without_markup():
    text = ("To resolve this issue, select the **Review** tab, and then select **Unshare Workbook**.\n\n"
            "For other versions, see [About shared workbooks](https://support.example/x).\n\n"
            "> **Note** an aside\n\nA third paragraph.\n\nA fourth one, left out.")
    assert parse_steps(text) == ["To resolve this issue, select the Review tab, and then select Unshare Workbook.",
                                 "For other versions, see About shared workbooks.", "A third paragraph."]


def test_steps_are_the_first_procedure_with_the_choices_a_step_announces():
    text = ("1. Exit Outlook.\n2. Open Control Panel, and then do one of the following:\n\n"
            "   - In Windows 10, click Start.\n   - In Windows 8, swipe in from the right.\n\n"
            "3. Double-click Mail.\n   - an aside that is not a step\n\n## More information\n\n"
            "1. Open the Registry Editor.\n2. Locate the key.")
    assert parse_steps(text) == [
        "Exit Outlook.",
        "Open Control Panel, and then do one of the following: In Windows 10, click Start. In Windows 8, swipe "
        "in from the right.",
        "Double-click Mail."]


def test_snippet_prefers_description_and_is_clipped():
    assert snippet("Short desc.", "resolution") == "Short desc."
    assert snippet("", "Do this.") == "Do this."
    long = snippet("word " * 200, "")
    assert len(long) <= 301 and long.endswith("…")


def test_query_text_drops_log_lines_ids_and_emails():
    body = ("Outlook keeps asking for my password.\n"
            "2024-05-01 10:00:01 ERROR auth failed 0x80070005\n"
            "   at Microsoft.Exchange.Auth.Login(String user)\n"
            "My order #W2378156, mail me at jo@example.com, ticket 12345678.")
    text = query_text("Password prompt", body)
    assert "Outlook keeps asking" in text and "Password prompt" in text
    for gone in ("2024-05-01", "Microsoft.Exchange", "#W2378156", "jo@example.com", "12345678"):
        assert gone not in text


def test_query_codes_merge_entities_and_log_lines():
    body = "It fails.\n2024-05-01 ERROR 0x80070005 denied"
    assert query_codes("Sign-in", body, ["aadsts50076"]) == ["AADSTS50076", "0x80070005"]


@pytest.mark.parametrize(("intent", "category", "scope"), [
    ("cancel_order", "ORDER", STORE), ("get_refund", "REFUND", STORE), ("recover_password", "ACCOUNT", STORE),
    ("check_payment_methods", "PAYMENT", STORE), ("technical_support", "TECHNICAL", KB),
    ("track_order", "ORDER", NONE), ("out_of_scope", "", NONE),
])
def test_scope_follows_the_intents_contract(intent, category, scope):
    assert scope_for(intent, category, resolution.load().for_intent(intent)) == scope


@pytest.mark.parametrize(("intent", "category", "scope"), [
    ("technical_support", "", KB), ("some_new_intent", "TECHNICAL", KB), ("some_new_intent", "ACCOUNT", STORE)])
def test_scope_without_a_contract_follows_the_category(intent, category, scope):
    assert scope_for(intent, category) == scope


def test_a_store_question_searches_store_pages_with_its_contract_pages_first():
    contract = resolution.load().for_intent("recover_password")
    scope, body = ticket_query("Password", "I forgot my password and the reset e-mail never arrives",
                               "recover_password", "ACCOUNT", [], 5, contract)
    bool_q = body["query"]["bool"]
    assert scope == STORE and bool_q["filter"] == [{"term": {"product_area": "store-help"}}]
    assert {"terms": {"id": ["help:password-reset"], "boost": 50.0}} in bool_q["should"]
    assert ticket_query("Hi", "Where is #W2378156?", "track_order", "ORDER", [], 5,
                        resolution.load().for_intent("track_order")) == (NONE, None)


def test_query_boosts_error_codes_and_filters_by_scope():
    body = build_query("outlook password", ["0x80070005"], STORE, 5)
    bool_q = body["query"]["bool"]
    assert body["size"] == 5
    assert bool_q["should"][0]["multi_match"]["fields"] == ["title^3", "description^2", "resolution", "body"]
    assert bool_q["should"][1] == {"terms": {"error_codes": ["0x80070005"], "boost": 40.0}}
    assert bool_q["filter"] == [{"term": {"product_area": "store-help"}}]
    kb_q = build_query("outlook", [], KB, 5)["query"]["bool"]
    assert kb_q["must_not"] == [{"term": {"product_area": "store-help"}}] and "filter" not in kb_q
    with pytest.raises(ValueError):
        build_query("", [], KB, 5)


def test_hits_become_articles_with_snippet_and_steps():
    hits = [{"id": "a", "title": "T", "url": "u", "description": "", "resolution": "1. One.\n2. Two.",
             "_score": 3.5}]
    (article,) = articles_from_hits(hits)
    assert (article.id, article.score) == ("a", 3.5)
    assert (article.snippet, article.steps) == ("1. One. 2. Two.", ["One.", "Two."])
