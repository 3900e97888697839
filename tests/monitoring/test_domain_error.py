from core.errors import DomainError


def test_field_is_short_for_the_message_on_that_field():
    error = DomainError("Only 2 left.", field="quantity", product_id=7)
    assert error.fields == {"quantity": ["Only 2 left."]}
    assert error.as_dict() == {
        "code": "domain_error",
        "message": "Only 2 left.",
        "fields": {"quantity": ["Only 2 left."]},
        "details": {"product_id": 7},
    }


def test_fields_given_in_full_win():
    error = DomainError("Bad cart.", fields={"lines.0.quantity": ["Must be at least 1."]})
    assert error.fields == {"lines.0.quantity": ["Must be at least 1."]}
