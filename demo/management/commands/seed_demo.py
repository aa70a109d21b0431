from django.core.management.base import BaseCommand

from demo.bidding import seed_tenders
from demo.blockbeds import seed_block_contracts
from demo.closures import seed_closures, seed_off_dps_choice
from demo.contracts import seed_contracts
from demo.dashboards import seed_placement_history
from demo.discharge import seed_discharge
from demo.dps import seed_dps
from demo.fairness import seed_fairness
from demo.organisations import COUNCIL_SLUG, DEMO_PASSWORD, seed_organisations
from demo.payers import seed_payers
from demo.postcodes import seed_postcodes
from demo.providers import seed_dps_membership
from demo.quality import seed_quality
from organisations.models import User


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print a login for each role."

    def handle(self, *args, **options):
        self.stdout.write("Creating the council, providers and care homes...")
        logins = seed_organisations(stdout=self.stdout)
        self.stdout.write("Adding the postcodes of the demo's towns and homes...")
        seed_postcodes(stdout=self.stdout)
        self.stdout.write("Creating block contracts...")
        seed_block_contracts(stdout=self.stdout)
        self.stdout.write("Creating past placements for the dashboards...")
        seed_placement_history(stdout=self.stdout)
        self.stdout.write("Creating DPS applications and vacancies...")
        seed_dps_membership(council_slug=COUNCIL_SLUG, stdout=self.stdout)
        self.stdout.write("Creating service agreements and a draft fee uplift...")
        seed_contracts(stdout=self.stdout)
        self.stdout.write("Recording who pays: payment rules, the FNC rate, shares and absences...")
        seed_payers(stdout=self.stdout)
        self.stdout.write("Creating placement requests and tenders in every state...")
        seed_tenders(stdout=self.stdout)
        self.stdout.write("Creating clarification questions, a shortlist, a bed hold and a challenged standstill...")
        shortlist_url = seed_fairness(stdout=self.stdout)
        self.stdout.write("Creating a hospital, urgent referrals and discharge-to-assess stays...")
        logins += seed_discharge(stdout=self.stdout)
        self.stdout.write("Recording each body's DPS, its questionnaire and compliance documents...")
        seed_dps(stdout=self.stdout)
        self.stdout.write(
            "Recording contract monitoring, a safeguarding embargo, an improvement plan and quality scoring..."
        )
        seed_quality(council_slug=COUNCIL_SLUG, stdout=self.stdout)
        self.stdout.write("Marking a home as closing and handing back a placement...")
        seed_closures(stdout=self.stdout)
        self.stdout.write("Placing a person by their choice at a home off the DPS...")
        seed_off_dps_choice(stdout=self.stdout)
        if not User.objects.filter(email="admin@example.org").exists():
            User.objects.create_superuser(email="admin@example.org", password=DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):"))
        seen = set()
        for login in logins:
            if login.role in seen:
                continue
            seen.add(login.role)
            self.stdout.write(f"  {login.role:<21} {login.email:<42} {login.organisation}")
        self.stdout.write(f"  {'back office':<21} {'admin@example.org':<42} /admin/")
        if shortlist_url:
            self.stdout.write(f"The person's shortlist (no sign-in, valid 14 days): {shortlist_url}")
