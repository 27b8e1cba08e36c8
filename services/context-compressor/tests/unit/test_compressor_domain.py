"""Fact extraction, log-line selection and budgeted compression with the real BPE tokenizer."""

import pytest
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.domain.abstractive import missing_facts, summary_messages
from context_compressor.domain.compress import compress, key_facts, summarize
from context_compressor.domain.facts import extract_facts, joined, merge_facts
from context_compressor.domain.logs import salient_log_lines, without_logs
from context_compressor.domain.model import Turn

pytestmark = pytest.mark.unit

TOKENIZER = BpeTokenizer()

STACK_TRACE = """Outlook crashes when I open the shared calendar. Here is the log:
2024-05-01 10:00:01 INFO Starting sync
2024-05-01 10:00:02 ERROR Sync failed with 0x8004010F
2024-05-01 10:00:03 ERROR Sync failed with 0x8004010F
2024-05-01 10:00:04 DEBUG retry scheduled
System.UnauthorizedAccessException: Access to the path is denied.
   at System.IO.FileStream.Init(String path)
   at Microsoft.Office.Outlook.Sync.Run(Boolean force)
Caused by: System.Net.WebException: The operation has timed out
Please help, this is urgent."""


def customer(ticket_id: str, text: str, entities=()) -> Turn:
    return Turn("customer", text, ticket_id, 0, extract_facts(text, list(entities)))


def test_tokenizer_counts_like_cl100k_and_truncates():
    assert TOKENIZER.count("Hello world") == 2
    assert TOKENIZER.count("hi <|endoftext|>") > 2
    cut = TOKENIZER.truncate("one two three four five", 2)
    assert cut == "one two" and TOKENIZER.count(cut) == 2
    with pytest.raises(ValueError, match="unknown tokenizer"):
        BpeTokenizer("no-such-encoding")


def test_facts_are_extracted_by_kind():
    text = ("Hi, my name is Yusuf Rossi, order #W2378156 and W1234567 were charged $1,250.00. "
            "Tracking number: 843053632392. My zip code is 19122, email Yusuf.Rossi@Example.com. "
            "I already restarted Outlook and I have reinstalled Office but still get 0X8004010F.")
    facts = extract_facts(text, [("product", "Office Chair")])
    assert facts["order_ids"] == ["#W2378156", "#W1234567"]
    assert facts["emails"] == ["yusuf.rossi@example.com"]
    assert facts["names"] == ["Yusuf Rossi"]
    assert facts["zip"] == ["19122"]
    assert facts["amounts"] == ["$1,250.00"]
    assert facts["tracking_ids"] == ["843053632392"]
    assert facts["error_codes"] == ["0x8004010f"]
    assert facts["products"] == ["Office Chair"]
    assert facts["actions_taken"] == ["restarted Outlook", "reinstalled Office"]


def test_facts_merge_and_join_in_a_stable_order():
    merged = merge_facts({"order_ids": ["#W1"]}, {"order_ids": ["#W2", "#W1"], "emails": ["a@b.co"]})
    assert joined(merged) == {"order_ids": "#W1, #W2", "emails": "a@b.co"}


def test_salient_log_lines_from_a_pasted_stack_trace():
    lines = salient_log_lines([STACK_TRACE])
    assert lines == [
        "2024-05-01 10:00:02 ERROR Sync failed with 0x8004010F",
        "System.UnauthorizedAccessException: Access to the path is denied.",
        "Caused by: System.Net.WebException: The operation has timed out",
    ]
    assert "Please help" not in " ".join(lines)
    assert without_logs(STACK_TRACE).splitlines() == [
        "Outlook crashes when I open the shared calendar. Here is the log:", "Please help, this is urgent."]


def test_log_lines_are_capped_at_ten():
    log = "\n".join(f"2024-05-01 10:00:{i:02d} ERROR worker {i} failed" for i in range(30))
    assert len(salient_log_lines([log])) == 10


def test_summary_keeps_the_opening_and_new_fact_sentences_once():
    turns = [customer("T-1", "My package is late. It was order #W2378156. The weather is nice."),
             Turn("agent", "We are checking. Nothing else to add. Your order #W2378156 is with the carrier.", "T-2", 0),
             customer("T-3", "Okay thanks. I'm still waiting on order #W2378156."),
             customer("T-4", "I need it before my trip next week, please hurry. Tracking 843053632392 is stuck."),
             Turn("agent", "We have cancelled the old label. Anything else?", "T-5", 0,
                  extract_facts("We have cancelled the old label.")),
             customer("T-6", "Sure.")]
    facts = merge_facts(*(t.facts for t in turns if t.role == "customer"))
    assert summarize(turns, facts, ("cancelled the old label",)) == [
        "Customer: My package is late.", "Customer: It was order #W2378156.", "Customer: The weather is nice.",
        "Customer: I need it before my trip next week, please hurry.", "Customer: Tracking 843053632392 is stuck.",
        "Agent: We have cancelled the old label."]


def test_customer_facts_come_first_and_agent_values_are_capped():
    listing = "Options: $10.00, $11.00, $12.00, $13.00, $14.00. Order #W1111111 is yours."
    turns = [customer("T-1", "I paid $99.99 for order #W2378156."),
             Turn("agent", listing, "T-2", 0, extract_facts(listing))]
    customer_facts, agent_facts = key_facts(turns)
    assert customer_facts == {"order_ids": ["#W2378156"], "amounts": ["$99.99"]}
    assert agent_facts == {"order_ids": ["#W1111111"], "amounts": ["$10.00", "$11.00", "$12.00"]}
    out = compress(turns, TOKENIZER, 512)
    assert out.facts["amounts"] == "$99.99, $10.00, $11.00, $12.00"
    # Under pressure the agent's values go before the customer's.
    tight = compress(turns + [customer("T-3", "Any news?")], TOKENIZER, 40)
    assert tight.token_count <= 40 and tight.facts["amounts"].startswith("$99.99")
    assert "#W2378156" in tight.facts["order_ids"] and "$12.00" not in tight.facts["amounts"]


def test_products_from_the_catalogue_and_exception_names():
    text = ("The t-shirts and the Smart Watch were wrong; the watch too. java.net.SocketTimeoutException then "
            "PermissionError and System.UnauthorizedAccessException: denied")
    facts = extract_facts(text, products=("T-Shirt", "Smart Watch", "Wristwatch", "Watch"))
    assert facts["products"] == ["T-Shirt", "Smart Watch", "Watch"]
    assert facts["exceptions"] == ["java.net.SocketTimeoutException", "PermissionError",
                                   "System.UnauthorizedAccessException"]


def test_abstractive_summary_check_names_missing_facts():
    facts = {"order_ids": ["#W2378156"], "emails": ["a@b.co"]}
    assert missing_facts("Order #w2378156 for A@B.co is late.", facts) == []
    assert missing_facts("The order is late.", facts) == ["order_ids=#W2378156", "emails=a@b.co"]
    messages = summary_messages([customer("T-1", "Where is #W2378156?\n2024-05-01 10:00:02 ERROR x failed")], 200)
    assert "verbatim" in messages[0]["content"] and "100 words" in messages[0]["content"]
    assert "#W2378156" in messages[1]["content"] and "ERROR" not in messages[1]["content"]


def test_short_conversation_is_kept_whole():
    turns = [customer("T-1", "Where is order #W2378156?"), customer("T-2", "Any news?")]
    out = compress(turns, TOKENIZER, 512)
    assert out.summary == ""
    assert [t.text for t in out.recent_turns] == ["Where is order #W2378156?", "Any news?"]
    assert out.facts == {"order_ids": "#W2378156"}
    assert out.turn_count == 2 and out.token_count == sum(
        TOKENIZER.count(s) for s in ("order_ids: #W2378156", "customer: Where is order #W2378156?",
                                     "customer: Any news?"))


def test_long_conversation_respects_the_budget_and_keeps_facts():
    filler = "I have been waiting for a very long time and nobody has answered my many questions so far. " * 6
    turns = [customer("T-1", f"My order #W2378156 never arrived. {filler}")]
    turns += [customer(f"T-{i}", f"Still nothing after day {i}. {filler}") for i in range(2, 30)]
    refund = "Please refund $89.99 to my card. Tracking 843053632392 shows nothing."
    turns.append(customer("T-30", f"{refund} {filler}"))
    turns.append(customer("T-31", STACK_TRACE))
    for budget in (512, 200, 100):
        out = compress(turns, TOKENIZER, budget)
        assert out.token_count <= budget
        assert out.original_token_count > 3000
        assert out.facts["order_ids"] == "#W2378156"
        assert out.facts["amounts"] == "$89.99" and out.facts["tracking_ids"] == "843053632392"
        assert out.recent_turns and out.recent_turns[-1].ticket_id == "T-31"
        assert out.turn_count == 31
    roomy = compress(turns, TOKENIZER, 512)
    assert roomy.summary.startswith("Customer: My order #W2378156 never arrived.")
    assert "2024-05-01 10:00:02 ERROR Sync failed with 0x8004010F" in roomy.log_lines


def test_a_single_huge_turn_is_truncated_to_fit():
    turns = [customer("T-1", "word " * 5000)]
    out = compress(turns, TOKENIZER, 64)
    assert out.token_count <= 64
    assert out.recent_turns and out.recent_turns[0].text.startswith("word word")


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        compress([customer("T-1", "hi")], TOKENIZER, 0)
