from audit.config.diff import (
    ADDED,
    MODIFIED,
    REMOVED,
    canonical,
    changes,
    content_hash,
    format_path,
)


def _sg(*cidrs, tags=None):
    return {
        "configuration": {"groupId": "sg-1", "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": c} for c in cidrs]},
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": [{"cidrIp": "10.0.0.0/8"}]},
        ]},
        "tags": tags or {},
    }


def test_order_of_lists_is_no_change():
    a = _sg("203.0.113.5/32", "198.51.100.0/24")
    b = _sg("198.51.100.0/24", "203.0.113.5/32")
    b["configuration"]["ipPermissions"].reverse()
    assert content_hash(a) == content_hash(b)
    assert changes(a, b) == []


def test_a_rule_widened_to_the_world_is_one_modified_field():
    found = changes(_sg("203.0.113.5/32"), _sg("0.0.0.0/0"))
    assert len(found) == 1
    assert found[0]["change_type"] == MODIFIED
    assert found[0]["path"].startswith("configuration.ipPermissions[")
    assert found[0]["path"].endswith(".cidrIp")
    assert (found[0]["before"], found[0]["after"]) == ("203.0.113.5/32", "0.0.0.0/0")


def test_a_range_added_next_to_another():
    found = changes(_sg("203.0.113.5/32"), _sg("203.0.113.5/32", "0.0.0.0/0"))
    assert [(c["change_type"], c["after"]) for c in found] == [(ADDED, {"cidrIp": "0.0.0.0/0"})]
    assert found[0]["before"] is None


def test_tags_added_removed_and_changed():
    found = changes(_sg("10.1.0.0/16", tags={"owner": "daisy", "env": "dev"}),
                    _sg("10.1.0.0/16", tags={"owner": "dan", "cost-center": "42"}))
    assert {(c["path"], c["change_type"], c["before"], c["after"]) for c in found} == {
        ("tags.cost-center", ADDED, None, "42"),
        ("tags.env", REMOVED, "dev", None),
        ("tags.owner", MODIFIED, "daisy", "dan"),
    }


def test_appearing_and_vanishing_resources():
    assert changes(None, {"a": 1}) == [{"path": "", "change_type": ADDED, "before": None, "after": {"a": 1}}]
    assert changes({"a": 1}, None)[0]["change_type"] == REMOVED
    assert changes(None, None) == []


def test_hash_sees_real_changes_and_canonical_sorts_deeply():
    assert content_hash(_sg("1.2.3.4/32")) != content_hash(_sg("1.2.3.5/32"))
    assert canonical({"b": [3, 1, 2], "a": {"d": [{"y": 1}, {"x": 2}]}}) == {"a": {"d": [{"x": 2}, {"y": 1}]},
                                                                           "b": [1, 2, 3]}
    assert format_path(["configuration", "ipPermissions", 0, "ipRanges", 1]) == "configuration.ipPermissions[0].ipRanges[1]"
