"""Create the demo administrator, demo brand and demo brand user, and print how to log in.

The brand matches the sandbox's seeded brand, so logging in through the sandbox's
JD Cloud OAuth page as `demo_brand_pin` lands in it.

Idempotent: passwords are generated once and kept in `var/demo-credentials.json` (not in
the repository), so every `make run` prints the same ones.
"""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser

DEMO_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"  # the spec's example brand
DEMO_PIN = "demo_brand_pin"


class Command(BaseCommand):
    help = "Create the demo administrator and demo brand (idempotent) and print credentials."

    def handle(self, *args, **options):
        credentials = self._credentials()
        with transaction.atomic(), scopes_disabled():
            User = get_user_model()
            admin, _ = User.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True}
            )
            admin.is_staff = admin.is_superuser = True
            admin.set_password(credentials["admin"])
            admin.save()

            brand, _ = Brand.objects.get_or_create(
                master_id=DEMO_MASTER_ID,
                defaults={
                    "name": "测试品牌商",
                    "description": "演示品牌 / demo brand",
                    "shop_id": "10000087",
                    "shop_type": Brand.ShopType.SELF_OPERATED,
                    "expire_time": timezone.now() + timedelta(days=365),
                },
            )
            user, _ = User.objects.get_or_create(username=DEMO_PIN)
            user.set_unusable_password()  # brand users log in through JD Cloud
            user.save()
            BrandUser.objects.update_or_create(
                user=user, defaults={"brand": brand, "pin": DEMO_PIN}
            )

        self.stdout.write(self.style.SUCCESS("Demo accounts ready:"))
        self.stdout.write(f"  administrator  admin / {credentials['admin']}   -> /admin/")
        self.stdout.write(
            f"  brand user     log in at / with JD Cloud (the sandbox) and pick {DEMO_PIN}"
        )
        self.stdout.write(f"  brand          {brand.name} (master_id {brand.master_id})")

    def _credentials(self) -> dict:
        path = settings.VAR_DIR / "demo-credentials.json"
        if path.exists():
            return json.loads(path.read_text())
        credentials = {"admin": secrets.token_urlsafe(12)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials))
        path.chmod(0o600)
        return credentials
