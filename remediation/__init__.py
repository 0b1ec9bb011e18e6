"""Rules, findings and exceptions; remediation policies, their action runs and dry runs (issues 7 to 9).

`models`; `compliance` evaluates the rules on new configuration items and on a schedule (findings and their
changes); `services` holds the writes (rules, exceptions, the trend's samples, policies) and `selectors` every
read scoped to the caller (findings, exceptions, action runs, dry runs and their reports) with the lists'
filters; `dashboard` computes the dashboard's figures (counts, HIPAA safeguards, the trend and its chart, the
exports); `policy_runs` turns findings and events into action runs (scope, blast radius, a fix by hand, a
signature's steps), `runner` carries them out and `run_recovery` ends those a lost worker or message left
behind; `dryrun` asks for, runs and applies dry runs, `dryrun_replay` replays the past for it and
`dryrun_signatures` is the slot triage plugs its signatures into; `launch_guardrails` checks a launch's template
against the rules; `timeline` adds compliance and remediation entries to a resource's timeline; `receivers`,
`tasks`, `forms`, `demo`, `seeded_patterns`; `api/` the REST API, `views/` the pages (findings, rules,
exceptions, policies, actions, dry runs). The Django-free cores: `rules/` (managed, declarative, plug-in rules
and a template's resources) and `actions/` (each fix: preview, apply, verify).
"""
