"""The real Ollama, OpenAI, LangChain and LlamaIndex clients against `gemma-embed serve` on loopback.

Run by scripts/test-clients.sh, which starts the server on the real model and passes its address in
GEMMA_SERVER (http://127.0.0.1:PORT) and the CLI in GEMMA_EMBED. Every vector must match
`gemma-embed embed` for the same text and prompt (cosine >= 0.99999). The server also runs the Gemma 3
generator (GEMMA_GENERATOR, the model "gemma3"): every greedy answer must be the text of
`gemma-embed generate` for the same prompt in Gemma's turn format.
"""
import base64
import json
import math
import os
import struct
import subprocess

import pytest

SERVER = os.environ["GEMMA_SERVER"]
CLI = os.environ["GEMMA_EMBED"]
TEXTS = ["Which planet is known as the Red Planet?", "Mars, known for its reddish appearance, is often referred to as the Red Planet."]


def cli_vectors(texts, prompt=None, dimensions=None):
    command = [CLI, "embed"] + (["--prompt", prompt] if prompt else []) + (["--dimensions", str(dimensions)] if dimensions else []) + list(texts)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line)["embedding"] for line in out.splitlines()]


def cosine(a, b):
    assert len(a) == len(b)
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert cosine(g, e) >= 0.99999


def test_ollama_embed_and_embeddings():
    import ollama
    client = ollama.Client(host=SERVER)
    response = client.embed(model="embeddinggemma", input=TEXTS)
    assert_same(response.embeddings, cli_vectors(TEXTS))
    query = client.embed(model="embeddinggemma:query", input=TEXTS[0])
    assert_same(query.embeddings, cli_vectors(TEXTS[:1], prompt="query"))
    legacy = client.embeddings(model="embeddinggemma", prompt=TEXTS[1])
    assert_same([legacy.embedding], cli_vectors(TEXTS[1:]))
    small = client.embed(model="embeddinggemma", input=TEXTS[0], dimensions=256)
    assert len(small.embeddings[0]) == 256
    assert_same(small.embeddings, cli_vectors(TEXTS[:1], dimensions=256))


def test_ollama_generate_is_a_clear_error():
    import ollama
    client = ollama.Client(host=SERVER)
    with pytest.raises(ollama.ResponseError) as error:
        client.generate(model="embeddinggemma", prompt="hi")
    assert error.value.status_code == 400
    assert "embedding model" in str(error.value)


CHAT = [{"role": "user", "content": "Name three colours."}]
CHAT_PROMPT = "<start_of_turn>user\nName three colours.<end_of_turn>\n<start_of_turn>model\n"


def cli_generate(prompt, tokens):
    """The greedy text of `gemma-embed generate --raw` (its stdout ends with one added newline)."""
    out = subprocess.run([CLI, "generate", "--raw", "--max-tokens", str(tokens), prompt], check=True, capture_output=True, text=True).stdout
    assert out.endswith("\n")
    return out[:-1]


def test_ollama_generate_and_chat():
    import ollama
    client = ollama.Client(host=SERVER)
    expected = cli_generate("The capital of France is", 16)
    assert expected.startswith(" the capital of")
    whole = client.generate(model="gemma3", prompt="The capital of France is", options={"temperature": 0, "num_predict": 16})
    assert whole.response == expected
    assert whole.done and whole.eval_count == 16 and whole.done_reason == "length"
    pieces = [part.response for part in client.generate(model="gemma3", prompt="The capital of France is", stream=True,
                                                         options={"temperature": 0, "num_predict": 16})]
    assert len(pieces) > 2 and "".join(pieces) == expected
    chat_expected = cli_generate(CHAT_PROMPT, 12)
    chunks = list(client.chat(model="gemma3", messages=CHAT, stream=True, options={"temperature": 0, "num_predict": 12}))
    assert "".join(chunk.message.content for chunk in chunks) == chat_expected
    assert chunks[-1].done and chunks[-1].prompt_eval_count > 0


def test_openai_chat_whole_and_streamed():
    from openai import OpenAI
    client = OpenAI(base_url=SERVER + "/v1", api_key="unused")
    expected = cli_generate(CHAT_PROMPT, 12)
    whole = client.chat.completions.create(model="gemma3", messages=CHAT, temperature=0, max_tokens=12)
    assert whole.choices[0].message.content == expected
    assert whole.usage.completion_tokens == 12 and whole.choices[0].finish_reason == "length"
    stream = client.chat.completions.create(model="gemma3", messages=CHAT, temperature=0, max_tokens=12, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected
    assert chunks[-1].usage.completion_tokens == 12
    assert [m.id for m in client.models.list().data] == ["embeddinggemma", "gemma3"]


def test_langchain_chat_models():
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI
    expected = cli_generate(CHAT_PROMPT, 12)
    assert ChatOllama(model="gemma3", base_url=SERVER, temperature=0, num_predict=12).invoke("Name three colours.").content == expected
    chat = ChatOpenAI(model="gemma3", base_url=SERVER + "/v1", api_key="unused", temperature=0, max_tokens=12)
    assert chat.invoke("Name three colours.").content == expected
    assert "".join(chunk.content for chunk in chat.stream("Name three colours.")) == expected


def test_openai_float_base64_dimensions():
    import openai
    client = openai.OpenAI(base_url=SERVER + "/v1", api_key="unused")
    response = client.embeddings.create(model="embeddinggemma", input=TEXTS)
    assert [d.index for d in response.data] == [0, 1]
    assert_same([d.embedding for d in response.data], cli_vectors(TEXTS))
    assert response.usage.prompt_tokens > 0
    raw = client.embeddings.create(model="embeddinggemma:document", input=TEXTS[1], encoding_format="base64")
    encoded = raw.data[0].embedding
    vector = list(struct.unpack("<%df" % (len(base64.b64decode(encoded)) // 4), base64.b64decode(encoded))) if isinstance(encoded, str) else encoded
    assert_same([vector], cli_vectors(TEXTS[1:], prompt="document"))
    small = client.embeddings.create(model="embeddinggemma", input=TEXTS[0], dimensions=128)
    assert len(small.data[0].embedding) == 128


def test_langchain_ollama():
    from langchain_ollama import OllamaEmbeddings
    embeddings = OllamaEmbeddings(model="embeddinggemma:document", base_url=SERVER)
    assert_same(embeddings.embed_documents(TEXTS), cli_vectors(TEXTS, prompt="document"))
    query = OllamaEmbeddings(model="embeddinggemma:query", base_url=SERVER)
    assert_same([query.embed_query(TEXTS[0])], cli_vectors(TEXTS[:1], prompt="query"))


def test_langchain_openai_with_strings():
    from langchain_openai import OpenAIEmbeddings
    embeddings = OpenAIEmbeddings(model="embeddinggemma", base_url=SERVER + "/v1", api_key="unused", check_embedding_ctx_length=False)
    assert_same(embeddings.embed_documents(TEXTS), cli_vectors(TEXTS))
    assert_same([embeddings.embed_query(TEXTS[0])], cli_vectors(TEXTS[:1]))


def test_token_ids_are_refused_with_the_fix():
    # LangChain's OpenAIEmbeddings by default tokenizes with tiktoken (whose vocabulary file it
    # downloads, so it cannot run offline here) and sends lists of token ids, as below.
    import openai
    client = openai.OpenAI(base_url=SERVER + "/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError) as error:
        client.embeddings.create(model="embeddinggemma", input=[[9259, 1902], [2, 3]])
    assert "check_embedding_ctx_length=False" in str(error.value)


def test_llama_index_ollama():
    from llama_index.embeddings.ollama import OllamaEmbedding
    embedding = OllamaEmbedding(model_name="embeddinggemma", base_url=SERVER)
    assert_same([embedding.get_text_embedding(TEXTS[1])], cli_vectors(TEXTS[1:]))
