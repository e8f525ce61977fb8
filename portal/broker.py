"""The embedded broker: kombu's filesystem transport, made safe for several processes.

kombu's own `filesystem` transport (5.x) creates a message file under its final name and
then writes it, while a worker lists the folder, moves the file away and reads it without a
lock: under load a worker takes a file that is still empty or half-written and dies on it
("Unrecoverable error: JSONDecodeError"). And with `store_processed` off it moves the file
to the system temporary folder, which may be another filesystem: the move is then a copy
and a delete, so two workers can both take one message.

Here a message is written under a hidden name the queue listing ignores and renamed into
place when complete (`os.replace`, atomic within a folder), and a worker claims a file by
renaming it into the processed folder of the same broker directory (atomic: exactly one
worker wins), reads it and deletes it. Selected by `CELERY_BROKER_URL=filesystem://`
through `CELERY_BROKER_TRANSPORT` (portal/settings.py).
"""

from __future__ import annotations

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

PARTIAL_PREFIX = "."  # `name.partition(".")[2]` of ".x.q.msg.part" is never "q.msg"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"{PARTIAL_PREFIX}{name}.part")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        claimed_folder = self.processed_folder
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(claimed_folder, f"{uuid.uuid4()}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except OSError:  # another worker claimed it first
                continue
            try:
                with open(claimed, "rb") as f:
                    payload = f.read()
                if not self.store_processed:
                    os.remove(claimed)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
    # One broker state per process, like kombu's: the exchange tables live in files.
    global_state = filesystem.Transport.global_state
