"""What crowds tests need to know about the sandbox."""

from __future__ import annotations

SANDBOX_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"
PUBLIC_CONDITION = {
    "bool": {
        "must": [
            {
                "bool": {
                    "group": "001",
                    "must": [
                        {"term": {"TAG_020": {"value": "已婚"}}},
                        {"terms": {"TAG_021": ["16-25岁", "46-55岁"]}},
                    ],
                }
            }
        ]
    }
}
