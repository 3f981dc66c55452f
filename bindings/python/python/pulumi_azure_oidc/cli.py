"""The ``pulumi-azure-oidc`` command, as the wheel installs it.

It runs the command-line code of the native binary inside this module's extension,
so ``pip install pulumi-azure-oidc`` gives the CLI with no Rust toolchain and no
second native library. ``python -m pulumi_azure_oidc`` runs it too.
"""

import signal
import sys
from typing import List, Optional

from ._native import cli_main

__all__ = ["main"]


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default: this process's arguments) and return
    its exit status; as a console script, the status becomes the process's."""
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = "pulumi-azure-oidc"
    else:
        args = ["pulumi-azure-oidc"]
    # The command runs in native code: Ctrl-C and a closed pipe end it as they end
    # the native binary, instead of waiting for Python to regain control.
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
