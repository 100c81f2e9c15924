"""Import every domain's tables so SQLModel's metadata is complete (migrations, tests)."""

import console.alerts.models
import console.audit.models
import console.authz.models
import console.backup.models
import console.dictionaries.models
import console.iam.models
import console.iam.outbound_models
import console.interfaces.models
import console.jobs.models
import console.logs.models
import console.reports.models
import console.stats.models
import console.tenancy.models
import console.workflows.models  # noqa: F401
