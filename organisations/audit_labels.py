"""Organisations' audit verbs (accounts, sign-in, API clients) in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "organisations.organisation.created": "Organisation created",
        "organisations.user.created": "User account created",
        "organisations.user.signed_in": "Signed in",
        "organisations.user.signed_out": "Signed out",
        "organisations.user.sign_in_failed": "Sign-in failed",
        "organisations.user.sign_in_throttled": "Sign-in blocked after too many attempts",
        "organisations.user.password_reset": "Password reset",
        "organisations.user.password_reset_throttled": "Password-reset link not sent: too many asked for",
        "organisations.api_client.created": "API client created",
        "organisations.api_client.revoked": "API client revoked",
    }
)
