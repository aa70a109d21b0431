from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("placements/<int:pk>/", views.placement_detail, name="placement_detail"),
    path("placements/<int:pk>/absences/new/", views.absence_new, name="absence_new"),
    path("placements/<int:pk>/absences/<int:absence_pk>/end/", views.absence_end_view, name="absence_end"),
    path("placements/<int:pk>/death/", views.death_new, name="death_new"),
    path("placements/<int:pk>/funding/", views.funding_change, name="funding_change"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/pdf/", views.agreement_download, name="agreement_pdf"),
    path("agreements/<int:pk>/accept/", views.agreement_accept_view, name="agreement_accept"),
    path("agreements/<int:pk>/fee-change/", views.fee_change, name="fee_change"),
    path("agreements/<int:pk>/end/", views.placement_end, name="placement_end"),
    path("commissioner/uplifts/", views.uplifts, name="uplifts"),
    path("commissioner/uplifts/new/", views.uplift_new, name="uplift_new"),
    path("commissioner/uplifts/<int:pk>/", views.uplift_detail, name="uplift_detail"),
    path("commissioner/uplifts/<int:pk>/apply/", views.uplift_apply_view, name="uplift_apply"),
    path("commissioner/payment-rules/", views.payment_rules_edit, name="payment_rules"),
    path("commissioner/fnc-rates/", views.fnc_rates, name="fnc_rates"),
    path("commissioner/outcome-payments/", views.outcome_rules, name="outcome_rules"),
    path("commissioner/outcome-payments/new/", views.outcome_rule_new, name="outcome_rule_new"),
    path("payments/", views.payment_schedule, name="payment_schedule"),
    path("broker/requests/<int:pk>/top-up-agreement/", views.top_up_agreement_new, name="top_up_agreement"),
    path("agreements/<int:pk>/top-up-stop/", views.top_up_stop_view, name="top_up_stop"),
]
