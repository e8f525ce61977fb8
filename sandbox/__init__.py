"""The JD Cloud and Linkflow simulator: its own process on its own port.

`python -m sandbox` serves it. The portal, its tests and its demo talk to it instead of
the real services, so every feature works offline on a fresh machine.
"""
