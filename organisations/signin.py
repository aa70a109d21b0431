"""Signing in: throttled fairly, and every success, failure and sign-out audited.

Two budgets, kept in the shared cache:

- Each account (the e-mail address typed, whether or not it has an account) may fail
  LOGIN_FAILURE_LIMIT times in a row. Then it waits LOGIN_LOCKOUT_SECONDS, twice as long after
  each further failure, up to LOGIN_LOCKOUT_MAX_SECONDS. Signing in or resetting the password
  clears it.
- Each client address may fail LOGIN_ADDRESS_FAILURE_LIMIT times within LOGIN_ADDRESS_WINDOW_SECONDS
  before it is blocked for the rest of the window. The limit is far higher than one person reaches,
  because a whole council may sign in from behind one proxy: one person's mistakes lock out only
  their own account, never their colleagues'.

Asking for a password-reset link has budgets of its own (`password_reset_budget_spend`), so the
form can neither fill someone's inbox nor be used to send mail in bulk.

The client address is the connecting one, or the one X-Forwarded-For gives when the request comes
from a proxy listed in TRUSTED_PROXIES; `client_address` is the one place that decides it.
"""

import hashlib
import ipaddress
import math
import time
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from psycopg.errors import LockNotAvailable

from core.audit import audit_record

from .models import User

# Cap on the doublings, so a long-hammered account cannot overflow the arithmetic.
MAX_DOUBLINGS = 30
ACCOUNT_MEMORY_SECONDS = 24 * 3600


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies)


def _ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request) -> str:
    """The address of the person (or system) making the request.

    X-Forwarded-For is read only when the connection comes from a trusted proxy: anyone else can
    write anything in it. Proxies append the address they saw, so the header is read from the
    right, past our own proxies, to the first address that is not one of them.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))

    def is_trusted(address) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not trusted or not is_trusted(_ip(remote)):
        return remote
    client = remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break
        client = str(address)
        if not is_trusted(address):
            break
    return client


def _account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def account_lockout_seconds(failures: int) -> int:
    """How long an account waits after this many failures in a row: none below the limit, then
    the base delay doubling with each further failure, up to the cap."""
    limit = settings.LOGIN_FAILURE_LIMIT
    if failures < limit:
        return 0
    doublings = min(failures - limit, MAX_DOUBLINGS)
    return min(settings.LOGIN_LOCKOUT_SECONDS * 2**doublings, settings.LOGIN_LOCKOUT_MAX_SECONDS)


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The count expired between add and incr: this failure starts a new one.
        cache.set(key, 1, timeout=timeout)
        return 1


def _lock(key: str, seconds: int) -> None:
    cache.set(key, time.time() + seconds, timeout=math.ceil(seconds) + 1)


def _seconds_left(key: str) -> float:
    until = cache.get(key)
    return max(0.0, until - time.time()) if until else 0.0


def signin_wait(*, email: str, address: str) -> tuple[str, float]:
    """Which budget is spent ('address' or 'account') and how many seconds are left, or ('', 0)."""
    for scope, key in (("address", f"signin:address-lock:{address}"), ("account", _account_lock(email))):
        left = _seconds_left(key)
        if left > 0:
            return scope, left
    return "", 0.0


def _account_lock(email: str) -> str:
    return f"signin:account-lock:{_account_key(email)}"


def _account_failures(email: str) -> str:
    return f"signin:account-failures:{_account_key(email)}"


def signin_failure_record(*, email: str, address: str) -> None:
    """Count a failed attempt against the account and the address, locking either when spent."""
    failures = _count(_account_failures(email), ACCOUNT_MEMORY_SECONDS)
    wait = account_lockout_seconds(failures)
    if wait:
        _lock(_account_lock(email), wait)
    window = settings.LOGIN_ADDRESS_WINDOW_SECONDS
    spent = _count(f"signin:address-failures:{address}", window) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
    if spent and _seconds_left(f"signin:address-lock:{address}") == 0:
        _lock(f"signin:address-lock:{address}", window)


def signin_account_clear(*, email: str) -> None:
    """A successful sign-in or a new password starts the account's count again."""
    cache.delete_many([_account_failures(email), _account_lock(email)])


def address_budget_spend(*, scope: str, address: str, limit: int, window: int) -> float:
    """Count one more request of `scope` from a client address; the seconds it must wait once the
    address has spent `limit` within `window` (the sign-in address budget's rule), else 0."""
    lock = f"{scope}:address-lock:{address}"
    left = _seconds_left(lock)
    if left > 0:
        return left
    if _count(f"{scope}:address-count:{address}", window) > limit:
        _lock(lock, window)
        return float(window)
    return 0.0


def password_reset_budget_spend(*, email: str, address: str) -> tuple[str, float]:
    """Count one request for a password-reset link. ('address', seconds) when the client address
    has asked PASSWORD_RESET_ADDRESS_LIMIT times within its window: it is told to wait. ('account',
    seconds) when the address typed has been sent PASSWORD_RESET_ACCOUNT_LIMIT links within its
    window: nothing more is sent, but the answer is the same as for a link sent, so the page never
    tells whether an address has an account. ('', 0) otherwise: send the link."""
    wait = address_budget_spend(
        scope="password-reset",
        address=address,
        limit=settings.PASSWORD_RESET_ADDRESS_LIMIT,
        window=settings.PASSWORD_RESET_ADDRESS_WINDOW_SECONDS,
    )
    if wait:
        return "address", wait
    window = settings.PASSWORD_RESET_ACCOUNT_WINDOW_SECONDS
    key = f"password-reset:account-count:{_account_key(email)}"
    if _count(key, window) > settings.PASSWORD_RESET_ACCOUNT_LIMIT:
        return "account", float(window)
    return "", 0.0


def wait_text(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return "1 hour" if hours == 1 else f"{hours} hours"


# How long an attempt waits for the attempts on the same account before it in the queue.
ACCOUNT_TURN_WAIT = "3s"


def account_turn(email: str) -> None:
    """Attempts to sign in to one account take their turn, holding its row, so the check of its
    budget, the password and the count of a failure happen for one attempt at a time: attempts sent
    together cannot all pass the check before any of them is counted. An attempt that waits longer
    than ACCOUNT_TURN_WAIT raises `OperationalError` (LockNotAvailable). An address with no account
    has no row and nothing to guess, so its attempts need no turn. Call inside a transaction: the
    turn lasts until it ends."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{ACCOUNT_TURN_WAIT}'")
    User.objects.select_for_update().filter(email=email.strip().lower()).values_list("pk", flat=True).first()


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled_account": "There have been too many failed attempts to sign in with this e-mail address. "
        "Try again in %(wait)s.",
        "throttled_address": "There have been too many failed attempts to sign in from your network. "
        "Try again in %(wait)s.",
    }

    def clean(self):
        email = self.data.get("username", "")
        try:
            with transaction.atomic():
                account_turn(email)
                try:
                    return self._clean_in_turn(email)
                except forms.ValidationError as refused:
                    # Raised once the turn is over, so the failure's audit row is kept.
                    refusal = refused
        except OperationalError as error:
            if not isinstance(error.__cause__, LockNotAvailable):
                raise
            # Attempts on this account were queued past the wait: it is being tried in bulk.
            self._record_failure(email, throttled=True)
            raise self._throttled("account", settings.LOGIN_LOCKOUT_SECONDS) from None
        raise refusal

    def _clean_in_turn(self, email: str):
        address = client_address(self.request)
        scope, left = signin_wait(email=email, address=address)
        if scope:
            self._record_failure(email, throttled=True)
            raise self._throttled(scope, left)
        try:
            return super().clean()
        except forms.ValidationError:
            signin_failure_record(email=email, address=address)
            self._record_failure(email, throttled=False)
            scope, left = signin_wait(email=email, address=address)
            if scope:
                raise self._throttled(scope, left) from None
            raise

    def _throttled(self, scope: str, seconds: float) -> forms.ValidationError:
        return forms.ValidationError(
            self.error_messages[f"throttled_{scope}"], code=f"throttled_{scope}", params={"wait": wait_text(seconds)}
        )

    def _record_failure(self, email: str, *, throttled: bool) -> None:
        user = User.objects.select_related("organisation").filter(email=email.strip().lower()).first()
        audit_record(
            actor=None,
            organisation=user.organisation if user else None,
            verb="organisations.user.sign_in_throttled" if throttled else "organisations.user.sign_in_failed",
            target=user or ("organisations.user", "unknown"),
            detail={"email": email[:254], "address": client_address(self.request)},
        )


class SignInView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        signin_account_clear(email=form.data.get("username", ""))
        audit_record(
            actor=user,
            verb="organisations.user.signed_in",
            target=user,
            organisation=user.organisation,
            detail={"address": client_address(self.request)},
        )
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            audit_record(actor=user, verb="organisations.user.signed_out", target=user, organisation=user.organisation)
        return super().post(request, *args, **kwargs)
