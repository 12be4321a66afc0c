"""Decoding a Pod or a PodList (List) of Pods, as the URL source serves them: each item with its path, its
own errors, the same limits as a file, and the same uid as the Pod alone."""

from __future__ import annotations

import pytest

from pykubelet.manifest import ManifestError, StaticPod, load_pod, load_pod_document, load_pods
from pykubelet.manifest.parse import MAX_VALUES, PodItem, load_document, load_pod_or_list
from tests.unit.manifest_parse_support import MINIMAL, SOURCE, URL, WALKTHROUGH, _n_values_yaml, reason

# --- a Pod or a list of Pods (the URL source) -------------------------------------------------------------


ITEM = "- metadata: {{name: {name}}}\n  spec: {{containers: [{{name: c, image: busybox}}]}}\n"


def list_reason(data: bytes) -> str:
    return reason(data, load_pod_or_list, URL)


def test_a_lone_pod_is_one_item_at_the_root() -> None:
    assert load_pod_or_list(MINIMAL, URL) == [PodItem("", load_document(MINIMAL, SOURCE))]


@pytest.mark.parametrize("kind", ["PodList", "List"])
def test_a_list_gives_each_item_with_its_path_and_the_pod_type_filled_in(kind: str) -> None:
    body = f"apiVersion: v1\nkind: {kind}\nitems:\n{ITEM.format(name='a')}{ITEM.format(name='b')}"
    items = load_pod_or_list(body.encode(), URL)
    assert [i.path for i in items] == ["items[0]", "items[1]"]
    assert [i.document["metadata"]["name"] for i in items if i.document] == ["a", "b"]
    assert all(i.document and i.document["kind"] == "Pod" and i.document["apiVersion"] == "v1" for i in items)


def test_an_item_that_is_not_a_pod_has_its_own_errors() -> None:
    body = b"apiVersion: v1\nkind: List\nitems:\n- {kind: Service}\n- 3\n- {apiVersion: apps/v1}\n"
    assert [[str(e) for e in i.errors] for i in load_pod_or_list(body, URL)] == [
        ['items[0].kind: Invalid value: "Service": every item of a list must be a Pod'],
        ['items[1]: Invalid value: "a number": must be a mapping (a Pod object)'],
        ['items[2].apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'],
    ]


def test_an_empty_list_has_no_items() -> None:
    assert load_pod_or_list(b"apiVersion: v1\nkind: PodList\nitems: []\n", URL) == []
    assert load_pod_or_list(b"apiVersion: v1\nkind: PodList\n", URL) == []


def test_what_is_neither_a_pod_nor_a_list_says_what_the_url_must_serve() -> None:
    assert list_reason(b"apiVersion: apps/v1\nkind: Deployment\n") == (
        'kind: Invalid value: "Deployment": the body must be one Pod, or a PodList (or List) of Pods; '
        'apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'
    )
    assert list_reason(b"apiVersion: v1\nkind: PodList\nitems: {a: 1}\n") == (
        'items: Invalid value: "a string": must be a list of Pods'
    )
    assert list_reason(b"apiVersion: v2\nkind: PodList\nitems: []\n") == (
        'apiVersion: Invalid value: "v2": a PodList or List is apiVersion "v1"'
    )


def test_a_list_is_decoded_with_the_same_limits_and_messages_as_a_file() -> None:
    for data in (_n_values_yaml(MAX_VALUES + 1), b"a: &loop [*loop]\n", MINIMAL + b"kind: Pod\n", b"\x00"):
        with pytest.raises(ManifestError) as as_file:
            load_document(data, URL)
        assert list_reason(data) == as_file.value.reason


def test_load_pods_names_the_item_in_every_error_and_keeps_the_good_ones() -> None:
    body = (
        "apiVersion: v1\nkind: PodList\nitems:\n"
        + ITEM.format(name="a")
        + ITEM.format(name="b").replace("image: busybox", "image: ''")
    )
    good, bad = load_pods(body.encode(), URL, "node1")
    assert isinstance(good, StaticPod) and good.name == "a-node1" and good.source == URL
    assert good.metadata["annotations"]["kubernetes.io/config.source"] == "http"
    assert isinstance(bad, ManifestError)
    assert str(bad) == f"{URL}: items[1].spec.containers[0].image: Required value"


def test_load_pod_document_equals_load_pod_without_re_encoding() -> None:
    from_bytes = load_pod(WALKTHROUGH, SOURCE, "node1")
    from_document = load_pod_document(load_document(WALKTHROUGH, SOURCE), SOURCE, "node1")
    assert from_document == from_bytes and from_document.obj == from_bytes.obj


def test_the_same_pod_alone_or_in_a_list_has_the_same_uid() -> None:
    alone = (
        b"apiVersion: v1\nkind: Pod\n"
        + ITEM.format(name="a").removeprefix("- ").replace("\n  ", "\n").encode()
    )
    listed = b"apiVersion: v1\nkind: PodList\nitems:\n" + ITEM.format(name="a").encode()
    [one], [other] = load_pods(alone, URL, "node1"), load_pods(listed, URL, "node1")
    assert isinstance(one, StaticPod) and isinstance(other, StaticPod) and one.uid == other.uid
