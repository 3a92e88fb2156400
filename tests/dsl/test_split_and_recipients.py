# ruff: noqa: E501  (expected messages are quoted whole, as a user reads them)
"""`split … record arm as FIELD` (the field must hold every label) and `send email X to a, b` (each
recipient a contact, named once): checked, formatted and lowered as written."""

from __future__ import annotations

from textwrap import dedent

from dsl import ir
from dsl.formatter import format_source
from tests.dsl.test_checker import expected, problems
from tests.dsl.test_lowering import playbook_of


def test_the_recorded_field_must_hold_every_label() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            split 50% / 50% record arm as segment:
                smb:
                    send email welcome
                wide:
                    send email welcome
            split 50% / 50% record arm as seats_used:
                a:
                    send email welcome
                b:
                    send email welcome
            split 50% / 50% record arm as arms_taken:
                a:
                    send email welcome
                b:
                    send email welcome
        """
    ) == expected(
        """
        test.play:3:35: field 'segment' is one of enterprise, mid_market, smb, trial: it cannot hold the arm 'wide'
                split 50% / 50% record arm as segment:
                                              ^^^^^^^
        test.play:8:35: field 'seats_used' is a number: an arm is recorded as its label, in a text field or a 'one of' holding every label
                split 50% / 50% record arm as seats_used:
                                              ^^^^^^^^^^
        test.play:13:35: unknown field 'arms_taken'
                split 50% / 50% record arm as arms_taken:
                                              ^^^^^^^^^^
        """
    )


def test_a_recorded_split_is_formatted_and_lowered_as_written() -> None:
    source = dedent(
        """\
        playbook p "P":
            trigger: event signed
            split 50% / 50% record arm as lifecycle_stage:
                control:
                    send email welcome
                offer:
                    send email welcome
        """
    )
    assert format_source(source, "test.play") == source
    [split] = playbook_of(source.split("trigger: event signed\n", 1)[1]).steps[0].body
    assert isinstance(split, ir.Split) and split.record_as == "lifecycle_stage"


def test_each_recipient_is_a_contact_named_once() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            send email welcome to primary_contact, csm, primary_contact
        """
    ) == expected(
        """
        test.play:3:44: 'csm' is an owner, not a contact: an email goes to a contact field
                send email welcome to primary_contact, csm, primary_contact
                                                       ^^^
        test.play:3:49: 'primary_contact' is named twice: it would get the email twice
                send email welcome to primary_contact, csm, primary_contact
                                                            ^^^^^^^^^^^^^^^
        """
    )


def test_several_recipients_are_formatted_and_lowered_in_order() -> None:
    source = dedent(
        """\
        playbook p "P":
            trigger: event signed
            send email welcome to primary_contact, csm.manager
        """
    )
    assert format_source(source, "test.play") == source
    [send] = playbook_of("send email welcome to primary_contact, primary_contact.name").steps[0].body
    assert isinstance(send, ir.SendEmail)
    assert (send.to, send.also_to) == (("primary_contact",), (("primary_contact", "name"),))


def test_an_email_goes_out_from_an_owner_never_a_contact() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            send email welcome from csm.manager
            send email welcome to primary_contact from primary_contact
        """
    ) == expected(
        """
        test.play:4:48: 'primary_contact' is a contact, not an owner: an email goes out from an owner of the account, such as csm
                send email welcome to primary_contact from primary_contact
                                                           ^^^^^^^^^^^^^^^
        """
    )
    source = "playbook p:\n    trigger: event signed\n    send email welcome to primary_contact from csm\n"
    assert format_source(source, "test.play") == source
    [send] = playbook_of("send email welcome from csm").steps[0].body
    assert isinstance(send, ir.SendEmail) and send.sender == ("csm",)
