"""`python -m sandbox [--host H] [--port P]`: serve the simulator."""

import argparse
import os

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8100")))
    args = parser.parse_args()
    uvicorn.run("sandbox.app:app", host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
