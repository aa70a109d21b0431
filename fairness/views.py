"""Pages: the person's shortlist (no sign-in), the broker's fairness panel, the provider's questions and outcome."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from bidding.models import Award, Bid, Tender
from bidding.selectors import tender_is_open
from bidding.services import fee_split
from core.errors import ACCESS_ERRORS, ApplicationError, ConflictError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role

from . import forms
from .models import BedHold, Challenge, ClarificationQuestion, LapsedAward, ShortlistLink, Standstill
from .selectors import (
    bed_hold_for_bid,
    bid_challenge_eligibility,
    broker_tender_get,
    provider_bid_get,
    provider_invited_tender_get,
    published_clarifications,
    regime_terms,
)
from .services import (
    abnormal_price_confirm,
    abnormal_prices,
    award_move_to_next_bid,
    bed_hold_confirm,
    challenge_decide,
    challenge_raise,
    person_choice_for,
    question_answer,
    question_ask,
    shortlist_choose,
    shortlist_link_open,
    shortlist_share,
)


def _private(response):
    # The token is in the address: keep it out of caches and out of other sites' referrer logs.
    # "same-origin" rather than "no-referrer": other sites still get no referrer, but the page's own
    # form keeps its Origin header; under "no-referrer" browsers send "Origin: null" and the CSRF
    # check refuses the person's choice.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _shortlist_rows(link: ShortlistLink) -> list[dict]:
    tender = link.tender
    bids = link.bids.select_related("care_home__current_rating", "invitation").order_by("rank")
    rows = []
    for bid in bids:
        split = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate)
        rows.append(
            {
                "bid": bid,
                "home": bid.care_home,
                "rating": bid.care_home.current_rating,
                "report_url": f"https://www.cqc.org.uk/location/{bid.care_home.cqc_location_id}",
                "distance_km": bid.invitation.distance_km,
                "split": split,
            }
        )
    return rows


def shortlist_view(request, token: str):
    try:
        link = shortlist_link_open(token=token)
    except ConflictError as error:
        return _private(render(request, "fairness/shortlist_expired.html", {"message": error.message}, status=410))
    rows = _shortlist_rows(link)
    choices = [(row["bid"].pk, row["home"].name) for row in rows]
    decided = link.tender.status != Tender.Status.EVALUATED
    form = forms.ChoiceForm(request.POST or None, choices=choices, initial={"bid": link.chosen_bid_id})
    status = 200
    if request.method == "POST" and not decided:
        if form.is_valid():
            try:
                shortlist_choose(
                    token=token,
                    bid_id=form.cleaned_data["bid"],
                    **{k: form.cleaned_data[k] for k in ("chosen_by_name", "top_up_payer", "top_up_consent")},
                )
            except ApplicationError as error:
                apply_to_form(form, error)
                status = error.status
            else:
                messages.success(request, "Your choice has been recorded. The broker will be in touch.")
                return _private(redirect("fairness:shortlist", token=token))
        else:
            status = 400
    context = {"link": link, "rows": rows, "form": None if decided else form, "decided": decided}
    return _private(render(request, "fairness/shortlist.html", context, status=status))


def _broker_context(request, tender: Tender, bound: dict) -> dict:
    flags = abnormal_prices(tender=tender)
    bids = list(
        tender.bids.filter(status=Bid.Status.SUBMITTED, rank__isnull=False)
        .select_related("care_home", "abnormal_price_confirmation")
        .order_by("rank")
    )
    evaluated = tender.status == Tender.Status.EVALUATED
    award = Award.objects.filter(tender=tender).select_related("bid__care_home").first()
    hold = bed_hold_for_bid(bid=award.bid) if award else None
    standstill = Standstill.objects.filter(bid=award.bid).first() if award else None
    questions = list(ClarificationQuestion.objects.filter(tender=tender))
    challenges = (
        list(Challenge.objects.filter(standstill=standstill).select_related("bid__care_home")) if standstill else []
    )
    rows = []
    for bid in bids:
        abnormal = bid.pk in flags.bid_ids
        confirmed = hasattr(bid, "abnormal_price_confirmation")
        rows.append(
            {
                "bid": bid,
                "abnormal": abnormal,
                "confirmed": confirmed,
                "form": bound.get(("deliverability", bid.pk))
                or (
                    forms.DeliverabilityForm(initial={"bid": bid.pk})
                    if abnormal and not confirmed and evaluated
                    else None
                ),
            }
        )
    share_form = None
    if evaluated and bids:
        share_form = bound.get("share") or forms.ShareForm(
            choices=[(b.pk, f"{b.care_home.name} (rank {b.rank})") for b in bids],
            initial={"bids": [b.pk for b in bids[:3]]},
        )
    open_now = tender_is_open(tender)
    question_rows = [
        {
            "question": q,
            "form": (bound.get(("answer", q.pk)) or forms.AnswerForm(initial={"question": q.pk}))
            if open_now and q.answered_at is None
            else None,
        }
        for q in questions
    ]
    challenge_rows = [
        {
            "challenge": c,
            "form": (bound.get(("decide", c.pk)) or forms.DecideForm(initial={"challenge": c.pk}))
            if c.decision == Challenge.Decision.PENDING
            else None,
        }
        for c in challenges
    ]
    return {
        "tender": tender,
        "terms": regime_terms(tender.request.commissioner),
        "flags": flags,
        "rows": rows,
        "share_form": share_form,
        "choice": person_choice_for(tender=tender),
        "links": list(ShortlistLink.objects.filter(tender=tender).select_related("chosen_bid__care_home")),
        "award": award,
        "hold": hold,
        "standstill": standstill,
        "question_rows": question_rows,
        "challenge_rows": challenge_rows,
        "move_on_form": (bound.get("move_on") or forms.MoveOnForm()) if award else None,
        "lapsed": list(
            LapsedAward.objects.filter(tender=tender).select_related("bid__care_home", "placement__cancelled_by")
        ),
        "new_link": request.session.pop(f"shortlist-link-{tender.pk}", ""),
    }


def _broker_post(request, tender: Tender) -> tuple[str, object, dict]:
    """Run the posted form's service. Returns (success message, bound form key, bound forms)."""
    which = request.POST.get("form")
    bids = tender.bids.filter(status=Bid.Status.SUBMITTED, rank__isnull=False).select_related("care_home")
    if which == "share":
        form = forms.ShareForm(request.POST, choices=[(b.pk, b.care_home.name) for b in bids])
        key = "share"
    elif which == "deliverability":
        form = forms.DeliverabilityForm(request.POST)
        key = ("deliverability", int(request.POST.get("bid") or 0))
    elif which == "answer":
        form = forms.AnswerForm(request.POST)
        key = ("answer", int(request.POST.get("question") or 0))
    elif which == "move_on":
        form = forms.MoveOnForm(request.POST)
        key = "move_on"
    elif which == "decide":
        form = forms.DecideForm(request.POST)
        key = ("decide", int(request.POST.get("challenge") or 0))
    else:
        raise ApplicationError("Choose an action.")
    if not form.is_valid():
        return "", key, {key: form}
    data = form.cleaned_data
    try:
        if which == "share":
            chosen = [b for b in bids if b.pk in set(data["bids"])]
            _link, token = shortlist_share(
                actor=request.user,
                tender=tender,
                bids=chosen,
                recipient=data["recipient"],
                valid_hours=data["valid_hours"],
            )
            request.session[f"shortlist-link-{tender.pk}"] = request.build_absolute_uri(
                reverse("fairness:shortlist", args=[token])
            )
            return "Shortlist link created. Copy it now: it is shown once.", key, {}
        if which == "deliverability":
            bid = tender.bids.filter(pk=data["bid"]).first()
            if bid is None:
                raise ApplicationError("Choose one of this tender's bids.")
            abnormal_price_confirm(actor=request.user, bid=bid, provider_statement=data["provider_statement"])
            return "Deliverability recorded.", key, {}
        if which == "answer":
            question = ClarificationQuestion.objects.filter(pk=data["question"], tender=tender).first()
            if question is None:
                raise ApplicationError("Choose one of this tender's questions.")
            answered = question_answer(actor=request.user, question=question, answer=data["answer"])
            if answered.extended_closes_at:
                return "Answer published. The deadline has been extended.", key, {}
            return "Answer published to every invited provider.", key, {}
        if which == "move_on":
            award = award_move_to_next_bid(
                actor=request.user,
                tender=tender,
                cause=data["cause"],
                reason=data["reason"],
                top_up_payer=data["top_up_payer"],
            )
            return f"Awarded to {award.bid.care_home.name}, the next ranked bid.", key, {}
        challenge = Challenge.objects.filter(pk=data["challenge"], standstill__tender=tender).first()
        if challenge is None:
            raise ApplicationError("Choose one of this tender's challenges.")
        challenge_decide(actor=request.user, challenge=challenge, decision=data["decision"], reason=data["reason"])
        return "Decision recorded.", key, {}
    except ApplicationError as error:
        apply_to_form(form, error)
        form.status = error.status
        return "", key, {key: form}


@role_required(Role.BROKER)
def tender_fairness(request, pk: int):
    tender = broker_tender_get(actor=request.user, pk=pk)
    bound: dict = {}
    status = 200
    if request.method == "POST":
        done, _key, bound = _broker_post(request, tender)
        if done:
            messages.success(request, done)
            return redirect("fairness:tender_fairness", pk=tender.pk)
        status = max((getattr(f, "status", 400) for f in bound.values()), default=400)
        tender = broker_tender_get(actor=request.user, pk=pk)
    response = render(request, "fairness/tender_fairness.html", _broker_context(request, tender, bound), status=status)
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.PROVIDER)
def provider_questions(request, pk: int):
    tender = provider_invited_tender_get(actor=request.user, pk=pk)
    form = forms.QuestionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                question_ask(actor=request.user, tender=tender, question=form.cleaned_data["question"])
            except ApplicationError as error:
                apply_to_form(form, error)
                status = error.status
            else:
                messages.success(request, "Question sent. The answer will be published to every invited provider.")
                return redirect("fairness:provider_questions", pk=tender.pk)
        else:
            status = 400
    context = {
        "tender": tender,
        "published": published_clarifications(tender=tender),
        "own": ClarificationQuestion.objects.filter(tender=tender, provider_id=request.user.organisation_id),
        "form": form if tender_is_open(tender) else None,
    }
    return render(request, "fairness/provider_questions.html", context, status=status)


@role_required(Role.PROVIDER)
def provider_award(request, pk: int):
    bid = provider_bid_get(actor=request.user, pk=pk)
    tender = bid.tender
    hold = bed_hold_for_bid(bid=bid)
    standstill = Standstill.objects.filter(tender=tender).exclude(status=Standstill.Status.SET_ASIDE).first()
    winner = standstill.bid if standstill else None
    status = 200
    challenge_form = None
    own_challenge = Challenge.objects.filter(bid=bid).first()
    if bid_challenge_eligibility(bid=bid).allowed:
        challenge_form = forms.ChallengeForm(request.POST if request.POST.get("grounds") is not None else None)
    hold_form = forms.BedHoldForm() if hold and hold.status == BedHold.Status.AWAITING else None
    if request.method == "POST":
        try:
            if challenge_form is not None and challenge_form.is_bound:
                if challenge_form.is_valid():
                    challenge_raise(actor=request.user, bid=bid, grounds=challenge_form.cleaned_data["grounds"])
                    messages.success(request, "Challenge raised. The placement stays unconfirmed until a decision.")
                    return redirect("fairness:provider_award", pk=bid.pk)
                status = 400
            elif hold_form is not None:
                bed_hold_confirm(actor=request.user, hold=hold)
                messages.success(request, "Bed hold confirmed.")
                return redirect("fairness:provider_award", pk=bid.pk)
            else:
                raise ConflictError("There is nothing to do on this bid now.", code="state")
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            if challenge_form is not None and challenge_form.is_bound:
                apply_to_form(challenge_form, error)
            else:
                messages.error(request, error.message)
            status = error.status
    context = {
        "bid": bid,
        "tender": tender,
        "hold": hold,
        "hold_form": hold_form,
        "standstill": standstill,
        "winner": winner if standstill and winner.pk != bid.pk else None,
        "challenge_form": challenge_form,
        "own_challenge": own_challenge,
    }
    return render(request, "fairness/provider_award.html", context, status=status)
