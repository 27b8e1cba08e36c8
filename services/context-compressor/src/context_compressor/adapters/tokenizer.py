"""A real BPE tokenizer (OpenAI's cl100k_base by default) whose vocabulary ships inside its wheel.

`tiktoken` downloads its encodings at run time, which an offline deployment cannot do; the
`bpe-openai` package carries the same encoding files and gives the same token ids.
"""

import bpe_openai


class BpeTokenizer:
    def __init__(self, encoding: str = "cl100k_base") -> None:
        try:
            self._enc = bpe_openai.get_encoding(encoding)
        except Exception as exc:  # noqa: BLE001 - the library raises several kinds for an unknown name
            raise ValueError(f"unknown tokenizer encoding {encoding!r}; known: "
                             f"{', '.join(bpe_openai.list_encoding_names())}") from exc
        self.name = encoding

    def count(self, text: str) -> int:
        # encode_ordinary: customer text that happens to contain "<|endoftext|>" is just text.
        return len(self._enc.encode_ordinary(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        tokens = self._enc.encode_ordinary(text)
        if len(tokens) <= max_tokens:
            return text
        return self._enc.decode(tokens[:max_tokens]).rstrip("\ufffd")
