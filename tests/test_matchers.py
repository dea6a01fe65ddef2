import pytest

from tocsin.errors import Invalid
from tocsin.matchers import Matcher, matches_all, parse_matcher, parse_matchers


def test_the_four_operators():
    labels = {"service": "payments", "env": "prod"}
    assert parse_matcher('service="payments"').matches(labels)
    assert not parse_matcher('service!="payments"').matches(labels)
    assert parse_matcher('env=~"prod|staging"').matches(labels)
    assert parse_matcher('env!~"dev.*"').matches(labels)


def test_regex_is_anchored_at_both_ends():
    assert not parse_matcher('service=~"pay"').matches({"service": "payments"})
    assert not parse_matcher('service=~"ments"').matches({"service": "payments"})
    assert parse_matcher('service=~"pay.*"').matches({"service": "payments"})
    assert parse_matcher('service!~"pay"').matches({"service": "payments"})


def test_a_missing_label_is_the_empty_string():
    assert parse_matcher('team=""').matches({"service": "api"})
    assert not parse_matcher('team!=""').matches({"service": "api"})
    assert parse_matcher('team=~".*"').matches({})
    assert not parse_matcher('team=~".+"').matches({})
    assert parse_matcher('team!="ops"').matches({})


def test_empty_value_matches_empty_label_value():
    assert parse_matcher('team=""').matches({"team": ""})
    assert parse_matcher("team=").matches({"team": ""})


def test_lists_with_braces_quotes_and_escapes():
    matchers = parse_matchers(r'{service="a,b", note="say \"hi\"", env=~prod , x!=1}')
    assert [str(m) for m in matchers] == [
        'service="a,b"',
        'note="say \\"hi\\""',
        'env=~"prod"',
        'x!="1"',
    ]
    assert matchers[1].value == 'say "hi"'
    assert matches_all(matchers, {"service": "a,b", "note": 'say "hi"', "env": "prod", "x": "2"})
    assert not matches_all(matchers, {"service": "a,b", "env": "prod"})


def test_flags_for_the_alertmanager_api():
    m = parse_matcher('a!~"x"')
    assert (m.is_regex, m.is_equal) == (True, False)
    assert Matcher.make("a", "=", "x") == parse_matcher('a="x"')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service", "expected name=value"),
        ('service=~"("', "bad regular expression"),
        ('service="open', "unterminated"),
        ('{service="a"', "missing closing brace"),
        ('a="1" b="2"', "expected ','"),
        ("", "no matcher"),
        ('a=x"y', "stray quote"),
    ],
)
def test_bad_matchers_are_refused_with_a_reason(text, message):
    with pytest.raises(Invalid, match=message):
        parse_matchers(text)


def test_parse_matcher_wants_exactly_one():
    with pytest.raises(Invalid, match="expected one matcher"):
        parse_matcher('a="1", b="2"')
