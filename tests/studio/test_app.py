"""The studio's HTTP API, in process (the browser test runs the page).

Skipped without the studio extra. Images are compared with the model's own
`edit` of the same inputs, never with fixed colours.
"""

import base64
import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette")
pytest.importorskip("httpx2")
from starlette.testclient import TestClient  # noqa: E402

from keras_lbie.datasets import cosal  # noqa: E402
from keras_lbie.models import LBIEColorizer  # noqa: E402
from keras_lbie.models import LBIESegmenter  # noqa: E402
from keras_lbie.studio import EditSession  # noqa: E402
from keras_lbie.studio.app import build_app  # noqa: E402
from keras_lbie.studio.image_io import encode_png  # noqa: E402


@pytest.fixture(scope="module")
def models():
    return {
        "cosal": LBIESegmenter.from_preset("cosal"),
        "cosal_colorizer": LBIEColorizer.from_preset("cosal_colorizer"),
    }


@pytest.fixture(scope="module")
def client(models):
    app = build_app(
        models, max_upload_bytes=50_000, max_pixels=512 * 512, max_sessions=4
    )
    with TestClient(app) as client:
        yield client


def pixels(url):
    assert url.startswith("data:image/png;base64,")
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def open_session(client, **body):
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def post(client, state, action, status=200, **kwargs):
    response = client.post(f"/api/sessions/{state['id']}/{action}", **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def test_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "lbie studio" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("studio.js", "studio.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_a_dialogue_matches_edit(client, models):
    state = open_session(client, example=3)
    example = cosal.generate(1, seed=1, start_index=3)
    np.testing.assert_array_equal(pixels(state["source"]), example["image"][0])
    assert " ".join(state["suggestions"]) == example["text"][0]
    post(client, state, "say", json={"text": "The circle is red."})
    turn = post(
        client, state, "say", json={"text": "The shape below it is blue."}
    )
    description = "The circle is red. The shape below the circle is blue."
    assert turn["number"] == 2 and turn["description"] == description
    expected = models["cosal"].edit(example["image"][0], description)[0]
    np.testing.assert_array_equal(pixels(turn["image"]), expected)
    steps, rows, columns = np.shape(turn["attended"])
    assert np.shape(turn["stop_step"]) == (rows, columns)
    assert turn["units"] == [
        "the circle is red", "the shape below the circle is blue",
    ]  # fmt: skip
    assert post(client, state, "undo") == {"turns": 1}
    state = post(client, state, "reset")
    assert state["turns"] == []


def test_upload_then_edit_at_the_uploaded_size(client, models):
    state = open_session(client)
    image = np.kron(
        cosal.generate(1, seed=1)["image"][0], np.ones((2, 2, 1), np.uint8)
    )
    state = post(client, state, "image", content=encode_png(image))
    assert (state["width"], state["height"]) == (96, 96)
    assert state["suggestions"] == []
    turn = post(client, state, "say", json={"text": "The circle is red."})
    expected = EditSession(models["cosal"], image).say("The circle is red.")
    np.testing.assert_array_equal(pixels(turn["image"]), expected.image)


def test_tabs_have_separate_dialogues(client):
    one, two = open_session(client), open_session(client)
    assert one["id"] != two["id"]
    post(client, one, "say", json={"text": "The circle is red."})
    assert post(client, two, "undo", status=400)["error"] == (
        "there is no turn to undo."
    )
    assert post(client, {"id": "forged"}, "undo", status=404)["error"]


@pytest.mark.parametrize(
    "action, kwargs, status, fragment",
    [
        ("say", {"json": {"text": ""}}, 400, "empty"),
        ("say", {"json": {"text": "x" * 301}}, 400, "at most 300"),
        ("say", {"json": {}}, 400, '{"text"'),
        ("say", {"content": b"{not json"}, 400, "not JSON"),
        ("image", {"content": b"The circle is red."}, 400, "not an image"),
        ("image", {"content": b"x" * 50_001}, 413, "larger than"),
        ("example", {"json": {"index": -1}}, 400, "0..9999"),
        ("model", {"json": {"model": "nope"}}, 400, "cosal_colorizer"),
    ],
)
def test_bad_requests_get_a_message_and_the_dialogue_goes_on(
    client, action, kwargs, status, fragment
):
    state = open_session(client)
    assert (
        fragment
        in post(client, state, action, status=status, **kwargs)["error"]
    )
    assert post(client, state, "say", json={"text": "The circle is red."})


def test_huge_image_is_refused(client):
    state = open_session(client)
    huge = encode_png(np.zeros((600, 600, 3), np.uint8))  # < 50 kB as PNG
    error = post(client, state, "image", status=400, content=huge)["error"]
    assert "600x600 px" in error


def test_switch_to_a_colorizer(client, models):
    state = post(client, open_session(client), "model", json={
        "model": "cosal_colorizer"
    })  # fmt: skip
    assert state["kind"] == "colorizer" and state["model"] == "cosal_colorizer"
    source = pixels(state["source"])
    turn = post(client, state, "say", json={"text": "The circle is red."})
    expected = models["cosal_colorizer"].colorize(source, "The circle is red.")
    np.testing.assert_array_equal(pixels(turn["image"]), expected[0])


def test_unexpected_errors_are_500_without_a_trace(client, monkeypatch):
    state = open_session(client)

    def broken(self, text):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(EditSession, "say", broken)
    error = post(client, state, "say", status=500, json={"text": "a"})["error"]
    assert "RuntimeError" in error and "secret" not in error
    monkeypatch.undo()
    assert post(client, state, "say", json={"text": "The circle is red."})


def test_old_dialogues_are_dropped(client):
    first = open_session(client)
    for _ in range(4):
        open_session(client)
    assert "reload the page" in post(client, first, "undo", status=404)["error"]
