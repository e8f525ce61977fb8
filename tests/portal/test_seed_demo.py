import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_working_credentials(
    capsys, settings, tmp_path, client, django_user_model
):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    out = capsys.readouterr().out
    with scopes_disabled():
        assert Brand.objects.count() == 1 and BrandUser.objects.count() == 1
    admin_password = out.split("admin / ")[1].split()[0]
    assert client.login(username="admin", password=admin_password)
    assert django_user_model.objects.get(username="admin").is_superuser
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o077 == 0
