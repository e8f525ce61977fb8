"""Walk a crowd through JD Cloud from the shell, printing each step:

    tags → create crowd → init → poll until generated → split → reach → SMS result

Meant for the sandbox (`make run` starts it) and for checking a real JD Cloud account.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.integrations.jdcloud import types as t
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client

DEMO_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"


class Command(BaseCommand):
    help = "Exercise the full crowd path against JD Cloud (or the sandbox), step by step."

    def add_arguments(self, parser):
        parser.add_argument("--master-id", default=DEMO_MASTER_ID)
        parser.add_argument("--poll-interval", type=float, default=2.0)
        parser.add_argument("--timeout", type=float, default=180.0)

    def handle(self, *args, master_id, poll_interval, timeout, **options):
        client = jdcloud_client()
        self.stdout.write(f"JD Cloud API: {settings.JDCLOUD_API_BASE_URL}  brand {master_id}")
        try:
            self._walk(client, master_id, poll_interval, timeout)
        except JDCloudError as exc:
            raise CommandError(f"{exc.endpoint}: {exc}") from exc

    def _step(self, number: int, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}] {text}"))

    def _walk(self, client, master_id: str, poll_interval: float, timeout: float) -> None:
        self._step(1, "tags (/tag/list/v2)")
        tags = client.tag_list_v2()
        public = [tag for tag in tags if tag.tag_type == "1" and tag.enums]
        if not public:
            raise CommandError("the catalog has no public tag with values")
        tag = public[0]
        self.stdout.write(
            f"    {len(tags)} tags; using {tag.tag} {tag.instruction} = {tag.enums[0]}"
        )

        self._step(2, "create crowd (/crowd/create/v2)")
        condition = {
            "bool": {
                "must": [
                    {
                        "bool": {
                            "group": tag.table_cd,
                            "must": [{"term": {tag.tag: {"value": tag.enums[0]}}}],
                        }
                    }
                ]
            }
        }
        search_id = client.crowd_create_v2(
            master_id=master_id,
            crowd_name=f"演示人群 {time.strftime('%H:%M:%S')}",
            crowd_desc="jdcloud_walkthrough",
            condition=condition,
            package_type=t.PackageType.PUBLIC,
        )
        self.stdout.write(
            f"    search_id {search_id}  condition {json.dumps(condition, ensure_ascii=False)}"
        )

        self._step(3, "instantiate (/crowd/init)")
        package_id = client.crowd_init(search_id=search_id).package_id
        self.stdout.write(f"    package_id {package_id}")

        self._step(4, "poll (/crowd/instance/status/{package_id}) until generated")
        deadline = time.monotonic() + timeout
        while True:
            status = client.crowd_instance_status(package_id=package_id)
            self.stdout.write(f"    status {status.status} size {status.package_size}")
            if status.status == t.InstanceStatus.GENERATED:
                break
            if status.status == t.InstanceStatus.FAILED:
                raise CommandError("the instance failed to generate")
            if time.monotonic() > deadline:
                raise CommandError(f"still generating after {timeout:.0f}s")
            time.sleep(poll_interval)

        self._step(5, "split 10 % / 10 % (/crowd/instance/split)")
        parts = client.crowd_instance_split(
            package_id=package_id,
            parts=[("触达组", 0.1), ("对照组", 0.1)],
            split_type=t.SplitType.RATIO,
        )
        for part in parts:
            self.stdout.write(
                f"    {part.package_name}: {part.package_id} size {part.package_size}"
            )
        reached = parts[0]

        self._step(6, "reach the first part by public SMS (/crowd/instance/reach)")
        templates = client.sms_templates(master_id=master_id, type=1)
        template = next((tpl for tpl in templates if tpl.template_params), templates[0])
        params = {key: f"示例{key}" for key in template.template_params}
        balance_before = client.sms_balance(master_id=master_id).public_balance
        client.crowd_instance_reach(
            package_id=reached.package_id,
            reach=t.SmsPublicReach(template_id=template.template_id, template_params=params),
        )
        balance_after = client.sms_balance(master_id=master_id).public_balance
        self.stdout.write(
            f"    template {template.template_id} {template.template_name}; "
            f"public balance {balance_before} → {balance_after}"
        )

        self._step(7, "SMS result (/sms/result)")
        result = client.sms_result(package_id=reached.package_id)
        self.stdout.write(
            f"    success {result.success} failed {result.failed} "
            f"restrict {result.restrict} unknown {result.unknown}"
        )
        self.stdout.write(self.style.SUCCESS("Done: the crowd path works end to end."))
