"""Linkflow CDP's Open API under `/linkflow` (spec: Linkflow开放接口指南).

`routes` lists every endpoint of the spec; `endpoint` runs them (faults, token, journal);
`state` holds the apps and their workspaces; the control API is `control`.
"""

PREFIX = "/linkflow"
