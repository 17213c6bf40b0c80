"""The fetch step's request-time expansion of ``${VAR}`` page URLs."""

from __future__ import annotations

from pipeline.steps.fetch import feed_secrets
from pipeline.topics import FeedSpec, TopicConfig


def test_only_the_variables_the_topic_s_feed_urls_name_can_be_expanded_in_a_page_url(
    kursk_topic: TopicConfig,
) -> None:
    topic = kursk_topic.model_copy(
        update={"feeds": [FeedSpec(url="https://feeds.example/${FEED_KEY}/rss"), FeedSpec(url="https://b.example/")]}
    )
    environ = {"FEED_KEY": "k3y", "AWS_SECRET_ACCESS_KEY": "never", "UNSET": ""}
    assert feed_secrets(topic, environ) == {"FEED_KEY": "k3y"}
