"""`python -m sandbox [--host H] [--port P]`: serve the simulator.
`python -m sandbox isv <command> ...`: call the portal's ISV endpoints as JD Cloud."""

import argparse
import os
import sys

import uvicorn


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8100")))
    args = parser.parse_args(argv)
    uvicorn.run("sandbox.app:app", host=args.host, port=args.port, log_level="info")


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["isv"]:
        from sandbox.isv import main as isv_main

        sys.exit(isv_main(argv[1:]))
    serve(argv)


if __name__ == "__main__":
    main()
