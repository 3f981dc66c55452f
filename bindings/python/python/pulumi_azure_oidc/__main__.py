"""``python -m pulumi_azure_oidc``: the ``pulumi-azure-oidc`` command."""

import sys

from .cli import main

sys.exit(main())
