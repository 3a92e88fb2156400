
"""Named audiences: declared once, read in `audience:` clauses and conditions, checked for their
type, their names and cycles, formatted, and lowered with their condition."""

from __future__ import annotations

from textwrap import dedent

from dsl import ir
from dsl.formatter import format_source
from dsl.ir_text import describe
from tests.dsl.test_checker import expected, problems
from tests.dsl.test_lowering import bundle_of


def test_an_audience_is_a_condition_any_playbook_reads_by_name() -> None:
    assert problems(
        """\
        audience at_risk: segment == "enterprise" and health is red
        audience big_at_risk: at_risk and arr > 100k

        playbook p "P":
            trigger: event signed
            audience: at_risk
            if big_at_risk or not at_risk:
                send email welcome
        """
    ) == ""


def test_an_audience_is_typed_named_once_and_never_names_itself() -> None:
    assert problems(
        """\
        audience loop_a: loop_b or arr > 3
        audience loop_b: loop_a
        audience self_loop: self_loop
        audience arr: segment == "smb"
        audience typo: segmnt == "smb"
        audience not_bool: arr + 1
        audience loop_a: engaged

        playbook p "P":
            trigger: event signed
            audience: loop_a.x
            send email welcome
        """
    ) == expected(
        """
        test.play:1:18: audience 'loop_a' refers to itself through audience 'loop_b'
            audience loop_a: loop_b or arr > 3
                             ^^^^^^
        test.play:2:18: audience 'loop_b' refers to itself through audience 'loop_a'
            audience loop_b: loop_a
                             ^^^^^^
        test.play:3:21: audience 'self_loop' refers to itself
            audience self_loop: self_loop
                                ^^^^^^^^^
        test.play:4:10: audience 'arr' has the name of an account field
            audience arr: segment == "smb"
                     ^^^
        test.play:5:16: unknown field 'segmnt' (did you mean 'segment'?)
            audience typo: segmnt == "smb"
                           ^^^^^^
        test.play:6:20: audience 'not_bool' needs a condition, not money
            audience not_bool: arr + 1
                               ^^^^^^^
        test.play:7:10: audience 'loop_a' is declared twice (first at test.play:1)
            audience loop_a: engaged
                     ^^^^^^
        test.play:11:22: 'audience loop_a' is a condition and has no field 'x'
                audience: loop_a.x
                                 ^
        """
    )


def test_an_audience_is_formatted_as_written() -> None:
    source = 'audience at_risk: segment == "enterprise" and health is red\n'
    assert format_source(dedent(source), "test.play") == source


def test_an_audience_lowers_to_a_reference_that_carries_its_condition() -> None:
    bundle = bundle_of(
        """\
        audience enterprise: segment == "enterprise"
        audience big_enterprise: enterprise and arr > 100k

        playbook p "P":
            trigger: event signed
            audience: big_enterprise
            send email welcome
        """
    )
    enterprise = ir.Compare(op="==", left=ir.FieldRef(path=("segment",)),
                            right=ir.Literal_(type="text", value="enterprise"))
    assert bundle.audiences["enterprise"] == enterprise
    audience = bundle.playbooks["p"].audience
    assert isinstance(audience, ir.AudienceRef) and audience.name == "big_enterprise"
    assert describe(audience) == "big_enterprise"
    assert describe(audience.condition) == "enterprise and arr > 100000"
