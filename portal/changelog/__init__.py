"""The one change log: every admin-edited model's history (who, when, which request, what changed), as NetBox keeps it.

`records` is what models declare (`history = ChangeRecords()`); apps register their models with `registry` in
their AppConfig.ready(); `selectors` and `views` read and show any registered model's history, so portal never
imports the apps above it.
"""
