"""End-to-end: the official openai SDK through a running hub to the fake upstream."""

import openai


def test_chat_roundtrip_is_logged(hub):
    client = openai.OpenAI(base_url=f"{hub.url}/v1", api_key=hub.create_key(), max_retries=0)
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content == "Echo: hello there"
    rows = hub.wait_for_calls(1)
    assert rows[0]["status"] == "success"
    assert rows[0]["input_tokens"] == reply.usage.prompt_tokens
    assert rows[0]["output_tokens"] == reply.usage.completion_tokens


def test_chat_on_postgres(hub_server_factory, hub_settings, pg_url, fake_openai_thread):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.create_key(), max_retries=0)
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert server.wait_for_calls(1)[0]["status"] == "success"
