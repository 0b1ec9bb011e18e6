"""The embedded broker: kombu's filesystem transport with a folder per queue."""

import json

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from portal.filesystem_broker import TRANSPORT


@pytest.fixture
def conn(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://localhost/", transport=TRANSPORT, transport_options=options) as connection:
        yield connection


def test_each_queue_keeps_its_messages_in_a_folder_of_its_own_taken_oldest_first(conn, tmp_path):
    files, intake = conn.SimpleQueue("files"), conn.SimpleQueue("intake")
    for n in range(3):
        files.put({"n": n})
    intake.put({"n": "fix"})
    assert len(list((tmp_path / "files").iterdir())) == 3 and len(list((tmp_path / "intake").iterdir())) == 1
    assert not [p for p in tmp_path.iterdir() if p.is_file()]
    assert (files.qsize(), intake.qsize()) == (3, 1)
    taken = []
    for _ in range(3):
        message = files.get(block=False)
        taken.append(message.payload["n"])
        message.ack()
    assert taken == [0, 1, 2]
    with pytest.raises(files.Empty):
        files.get(block=False)
    assert intake.get(block=False).payload == {"n": "fix"}
    assert list((tmp_path / "files").iterdir()) == []  # taken messages leave nothing behind


def test_a_message_kombus_transport_left_in_the_top_folder_is_taken_too(conn, tmp_path):
    message = {"body": json.dumps({"n": "old"}), "content-type": "application/json", "content-encoding": "utf-8",
               "headers": {}, "properties": {"delivery_tag": "t",
                                             "delivery_info": {"exchange": "", "routing_key": "files"}}}
    (tmp_path / "1_a.files.msg").write_text(json.dumps(message))
    (tmp_path / "2_b.other.msg").write_text(json.dumps(message))
    queue = conn.SimpleQueue("files")
    assert queue.get(block=False).payload == {"n": "old"}
    assert (tmp_path / "2_b.other.msg").exists()  # another queue's: left for it


def test_purge_empties_one_queue(conn):
    files, intake = conn.SimpleQueue("files"), conn.SimpleQueue("intake")
    files.put({"n": 1})
    intake.put({"n": 2})
    assert conn.default_channel.queue_purge("files") == 1
    assert (files.qsize(), intake.qsize()) == (0, 1)


@pytest.mark.parametrize("name", ["..", "a/b", "../x"])
def test_a_queue_name_that_is_no_folder_name_is_refused(conn, name):
    with pytest.raises(ChannelError, match="cannot name a folder"):
        conn.default_channel.queue_folder(name)
